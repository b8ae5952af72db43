//! hornet's protocol engines: they open connections, send requests and report per-phase timings
//! and classified errors (`hornet_metrics::{Timings, ErrorKind}`) to the virtual users that drive
//! them. [`http`] is the HTTP/1.1 and HTTP/2 client; [`ws`] the WebSocket client.

pub mod http;
pub mod ws;

//! Artillery `processor` JavaScript on an embedded QuickJS engine (rquickjs / QuickJS-NG).
//!
//! One [`Processor`] per worker thread: it owns one runtime and one context, loads the processor
//! module once (CommonJS or ES module, with `require` of relative files, `node_modules` packages
//! and the Node built-ins real processors use) and calls its hooks for the thread's VUs with
//! Artillery's four signatures. Each VU is a [`JsVu`]: a plain JavaScript `context` object, so an
//! idle VU costs bytes, not a runtime. Hooks may call their callback, return a Promise or be
//! `async`; the calls are awaited on the worker's (current-thread) tokio runtime, with timers
//! driven from Rust. `events.emit(...)` metrics are collected as [`Emitted`] for the runner.
//! [`dependencies`] lists the files a processor needs, for a distributed run to ship them.

mod convert;
mod deps;
mod files;
mod http;
mod native;
mod processor;
mod resolve;

use std::fmt;

pub use deps::dependencies;
pub use http::{HttpCall, HttpFailure, HttpFuture, HttpReply, HttpSender};
pub use processor::{
    ChangeLog, JsRequest, JsVu, Processor, ProcessorOptions, RequestBody, RequestParams, ResponseData, VuVars,
};

/// A processor that could not be loaded: where (file:line:column when known) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file at fault (the processor, or a file it requires).
    pub file: String,
    /// 1-based line and column, when the engine reported one.
    pub position: Option<(usize, usize)>,
    /// What went wrong.
    pub message: String,
}

impl LoadError {
    pub(crate) fn at(file: &str, line: usize, column: usize, message: String) -> LoadError {
        LoadError { file: file.to_string(), position: Some((line, column)), message }
    }

    pub(crate) fn in_file(file: &str, message: String) -> LoadError {
        LoadError { file: file.to_string(), position: None, message }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Why a hook call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookFailure {
    /// The function threw, rejected, or passed an error to its callback.
    Failed,
    /// The call ran longer than its budget and was interrupted.
    Budget,
    /// The processor exports no function by that name.
    Missing,
    /// The call ended without settling: no callback call, no pending promise or timer.
    NeverSettled,
}

/// A hook call that failed: the JavaScript message and stack (file:line of each frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookError {
    /// The exported function that was called.
    pub function: String,
    /// What kind of failure.
    pub failure: HookFailure,
    /// The error's message (`Error: ...` for an Error, the value's text otherwise).
    pub message: String,
    /// The JavaScript stack, one `    at f (file:line:column)` frame a line; may be empty.
    pub stack: String,
}

impl HookError {
    /// The innermost frame of the stack that points into a file (`file:line:column`).
    pub fn location(&self) -> Option<&str> {
        first_location(&self.stack)
    }
}

/// The first `file:line:column` of a QuickJS stack outside hornet's own prelude.
pub(crate) fn first_location(stack: &str) -> Option<&str> {
    stack.lines().find_map(|line| {
        let frame = line.trim().strip_prefix("at ")?;
        let place = match frame.rfind('(') {
            Some(open) => frame[open + 1..].trim_end_matches(')'),
            None => frame,
        };
        (place.contains(':') && !place.starts_with("hornet:") && !place.starts_with("native"))
            .then_some(place)
    })
}

impl fmt::Display for HookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "processor function '{}': {}", self.function, self.message)?;
        if let Some(at) = self.location() {
            write!(f, " (at {at})")?;
        }
        Ok(())
    }
}

impl std::error::Error for HookError {}

/// A metric or error a processor reported with `events.emit`.
#[derive(Debug, Clone, PartialEq)]
pub enum Emitted {
    /// `emit('counter', name, n)`: add `n` (default 1) to a counter.
    Counter {
        /// The counter's name.
        name: String,
        /// What to add.
        value: f64,
    },
    /// `emit('histogram', name, v)` (or `'summary'`): record `v` in a histogram.
    Histogram {
        /// The histogram's name.
        name: String,
        /// The value recorded.
        value: f64,
    },
    /// `emit('rate', name)`: one event of a per-second rate.
    Rate {
        /// The rate's name.
        name: String,
    },
    /// `emit('error', message)`, or an exception thrown where no hook could take it (a timer
    /// callback): counted as an error under that message.
    Error {
        /// The message, as the errors table shows it.
        message: String,
    },
}

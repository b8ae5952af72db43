//! The response body type: one in-memory chunk, or `n` filler bytes streamed as slices of a static buffer.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// Size of one streamed filler chunk.
const CHUNK_LEN: usize = 64 * 1024;

/// Filler bytes served by `/bytes/{n}`; every chunk is a slice of this, so large bodies allocate nothing.
static FILL: [u8; CHUNK_LEN] = [b'x'; CHUNK_LEN];

/// A response body with an exact length, so hyper always sends `content-length`.
#[derive(Debug)]
pub(crate) enum TargetBody {
    /// A single chunk, taken when polled.
    Full(Option<Bytes>),
    /// This many filler bytes still to send.
    Fill(u64),
}

impl TargetBody {
    /// A body holding `bytes`.
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Some(bytes.into()))
    }

    /// A body of no bytes.
    pub(crate) fn empty() -> Self {
        Self::Full(None)
    }

    /// A body of `len` filler bytes.
    pub(crate) fn fill(len: u64) -> Self {
        Self::Fill(len)
    }

    /// Bytes left to send.
    fn remaining(&self) -> u64 {
        match self {
            Self::Full(bytes) => bytes.as_ref().map_or(0, |b| b.len() as u64),
            Self::Fill(left) => *left,
        }
    }
}

impl Body for TargetBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.get_mut() {
            Self::Full(bytes) => bytes.take().filter(|b| !b.is_empty()),
            Self::Fill(0) => None,
            Self::Fill(left) => {
                // `min` with CHUNK_LEN makes the cast lossless.
                let len = (*left).min(CHUNK_LEN as u64) as usize;
                *left -= len as u64;
                Some(Bytes::from_static(&FILL[..len]))
            }
        };
        Poll::Ready(frame.map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn collect(body: TargetBody) -> (usize, Vec<u8>) {
        let mut body = body;
        let mut frames = 0;
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = match frame {
                Ok(frame) => frame.into_data().unwrap_or_default(),
                Err(never) => match never {},
            };
            out.extend_from_slice(&data);
            frames += 1;
        }
        (frames, out)
    }

    #[tokio::test]
    async fn fill_streams_exact_length_in_chunks() {
        let len = 2 * CHUNK_LEN as u64 + 10;
        let body = TargetBody::fill(len);
        assert_eq!(body.size_hint().exact(), Some(len));
        let (frames, data) = collect(body).await;
        assert_eq!(frames, 3);
        assert_eq!(data.len() as u64, len);
        assert!(data.iter().all(|&b| b == b'x'));
    }

    #[tokio::test]
    async fn full_and_empty_bodies() {
        let body = TargetBody::full("abc");
        assert_eq!(body.size_hint().exact(), Some(3));
        assert!(!body.is_end_stream());
        assert_eq!(collect(body).await, (1, b"abc".to_vec()));
        let empty = TargetBody::empty();
        assert!(empty.is_end_stream());
        assert_eq!(collect(empty).await, (0, Vec::new()));
        assert!(TargetBody::fill(0).is_end_stream());
    }
}

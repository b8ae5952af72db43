//! W3C trace context as the engine writes it ([`Request::trace`](super::Request::trace)): the ids
//! of a request's `traceparent` and its `baggage` value, hex-encoded straight into the request the
//! lean HTTP/1.1 path renders (no header map, no allocation per request), or put in the header map
//! handed to hyper on the other paths.

use hornet_metrics::{SpanId, TraceId};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The `traceparent` header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The `baggage` header.
pub const BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// The trace context of one request: `traceparent: 00-<trace id>-<span id>-<flags>` and
/// `baggage: <baggage>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// The trace id (not all zeros, which W3C forbids).
    pub trace_id: TraceId,
    /// The span id, the parent of the server's span (not all zeros).
    pub span_id: SpanId,
    /// The `sampled` flag (`-01`; `-00` without).
    pub sampled: bool,
    /// The `baggage` header's whole value; the request's own headers must have no `baggage`.
    pub baggage: HeaderValue,
}

impl TraceContext {
    /// The `traceparent` value, 55 bytes.
    pub fn traceparent(&self) -> [u8; 55] {
        traceparent(&self.trace_id, &self.span_id, self.sampled)
    }

    /// Appends both header lines (`traceparent: ...\r\n`, `baggage: ...\r\n`) to `w`: the fixed
    /// part made on the stack with the ids in place, then the baggage value.
    pub(crate) fn write_lines(&self, w: &mut Vec<u8>) {
        const NAME: usize = b"traceparent: ".len();
        let mut lines = *b"traceparent: 00-00000000000000000000000000000000-0000000000000000-00\r\nbaggage: ";
        fill(&mut lines[NAME..NAME + 55], &self.trace_id, &self.span_id, self.sampled);
        let value = self.baggage.as_bytes();
        w.reserve(lines.len() + value.len() + 2);
        w.extend_from_slice(&lines);
        w.extend_from_slice(value);
        w.extend_from_slice(b"\r\n");
    }

    /// Adds both headers to `headers` (the paths through hyper).
    pub(crate) fn insert_into(&self, headers: &mut HeaderMap) {
        // Lowercase hex digits and dashes: always a valid header value.
        if let Ok(value) = HeaderValue::from_bytes(&self.traceparent()) {
            headers.insert(TRACEPARENT, value);
        }
        headers.insert(BAGGAGE, self.baggage.clone());
    }
}

/// `00-<trace id>-<span id>-<flags>`, 55 bytes, on the stack.
pub fn traceparent(trace_id: &TraceId, span_id: &SpanId, sampled: bool) -> [u8; 55] {
    let mut out = *b"00-00000000000000000000000000000000-0000000000000000-00";
    fill(&mut out, trace_id, span_id, sampled);
    out
}

/// Writes the ids and flag into `out`, a `traceparent` template of zeros (55 bytes).
#[inline]
fn fill(out: &mut [u8], trace_id: &TraceId, span_id: &SpanId, sampled: bool) {
    let (high, low) = trace_id.split_at(8);
    out[3..19].copy_from_slice(&hex16(u64::from_be_bytes(high.try_into().unwrap_or_default())));
    out[19..35].copy_from_slice(&hex16(u64::from_be_bytes(low.try_into().unwrap_or_default())));
    out[36..52].copy_from_slice(&hex16(u64::from_be_bytes(*span_id)));
    if sampled {
        out[54] = b'1';
    }
}

/// The 16 lowercase hex digits of `v`, most significant first, without a loop: each nibble is
/// spread into a byte of a `u128`, then all sixteen become ASCII at once (`0`–`9` add `'0'`, `10`–`15`
/// add `'a' - 10`).
#[inline]
fn hex16(v: u64) -> [u8; 16] {
    const fn repeat(byte: u8) -> u128 {
        u128::from_ne_bytes([byte; 16])
    }
    let mut x = u128::from(v);
    x = (x | (x << 32)) & 0x0000_0000_ffff_ffff_0000_0000_ffff_ffff;
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff_0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff_00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & repeat(0x0f);
    // 1 in each byte whose nibble is 10 or more (adding 6 carries into bit 4; never across bytes).
    let letters = ((x + repeat(0x06)) >> 4) & repeat(0x01);
    (x + repeat(b'0') + letters * u128::from(b'a' - b'0' - 10)).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex16_is_lowercase_hex_most_significant_first() {
        let mut state = 0x1234_5678_9abc_def0_u64;
        let mut cases = vec![0, 1, 9, 10, 15, 16, u64::MAX, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210];
        for _ in 0..1000 {
            cases.push(splitmix64(&mut state));
        }
        for v in cases {
            assert_eq!(std::str::from_utf8(&hex16(v)).expect("ASCII"), format!("{v:016x}"));
        }
    }

    /// SplitMix64, for test inputs.
    fn splitmix64(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn traceparent_and_both_lines() {
        let t = TraceContext {
            trace_id: [
                0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
                0x36,
            ],
            span_id: [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
            sampled: true,
            baggage: HeaderValue::from_static("hornet.testid=t-1"),
        };
        assert_eq!(&t.traceparent(), b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let mut w = Vec::new();
        t.write_lines(&mut w);
        assert_eq!(
            w,
            b"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nbaggage: hornet.testid=t-1\r\n"
        );
        let mut headers = HeaderMap::new();
        TraceContext { sampled: false, ..t }.insert_into(&mut headers);
        assert_eq!(headers[TRACEPARENT], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assert_eq!(headers[BAGGAGE], "hornet.testid=t-1");
    }
}

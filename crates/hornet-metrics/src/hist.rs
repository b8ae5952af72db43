//! Latency histograms: a lazily allocated, auto-resizing HdrHistogram of microseconds with the exact
//! minimum, maximum and sum kept beside it, and the V2+DEFLATE/base64 codec used by the report.
//!
//! # Memory
//!
//! There is one set of histograms per endpoint per worker thread per one-second interval, so their
//! size matters more than anything else here. Two choices keep it small:
//!
//! * **Auto-resize instead of fixed bounds.** `new_with_bounds(1, 3_600_000_000, 3)` allocates the
//!   counts for the whole 1 µs .. 1 h range up front: 23 552 bins × 8 B ≈ 188 KB per histogram.
//!   An auto-resizing histogram starts at 2 048 bins (16 KB, values below ~2 ms) and grows by
//!   1 024 bins (8 KB) per doubling of the largest value actually recorded: ≈ 64 KB when the slowest
//!   response is 100 ms, ≈ 88 KB at 1 s, and only reaches 188 KB if something takes ~1 h.
//!   Resizing reallocates, but only O(log range) times per histogram per interval, never per request
//!   once the range is covered.
//! * **Lazy allocation.** A histogram is allocated on its first value in an interval. Histograms
//!   that see nothing in a second (TLS on kept-alive connections, the 3xx/5xx classes, endpoints
//!   that were not hit) cost only the `Hist` header.
//!
//! Values above one hour are clamped to one hour. `saturating_record` cannot be used for the
//! clamping with auto-resize (it clamps to the *current* top of the histogram, not to the
//! configured maximum), so the value is clamped first and then recorded with `record`.
//!
//! The exact min, max and sum are tracked beside the histogram (two compares and an add per
//! value) so that min, max and mean are exact and percentiles can be clamped to the real
//! `[min, max]`: HdrHistogram reports the top of a value's bucket, which can be up to 0.1 % above
//! the largest value actually recorded.

use std::io::Read;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{DeserializeError, Deserializer, Serializer, V2DeflateSerializer};

use crate::report::Summary;

/// Highest recordable value: one hour in microseconds. Larger values are clamped to it.
pub const MAX_US: u64 = 3_600_000_000;

/// Significant decimal digits kept by every histogram (relative error of at most 0.1 %).
pub const SIGFIG: u8 = 3;

/// Largest counts array [`decode_histogram`] accepts (4 Mi bins = 32 MiB), so a hostile report
/// cannot make the decoder allocate gigabytes. Hornet's own histograms have at most 23 552 bins.
const MAX_DECODED_BINS: u64 = 1 << 22;

/// Largest inflated V2 payload accepted from a V2+DEFLATE histogram (guards against zip bombs).
const MAX_INFLATED_BYTES: u64 = 64 << 20;

/// Cookie of an uncompressed V2 histogram (`0x1c849303 | 0x10`).
const V2_COOKIE: u32 = 0x1c84_9313;
/// Cookie of a V2+DEFLATE histogram (`0x1c849304 | 0x10`).
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
/// Size of the V2 header: cookie, payload length, normalizing offset, digits, low, high, ratio.
const V2_HEADER_LEN: usize = 40;

/// Why a histogram could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    /// The text is not valid standard base64.
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a well-formed V2 or V2+DEFLATE HdrHistogram.
    #[error("histogram is not a valid V2 HdrHistogram: {0}")]
    Format(&'static str),
    /// The histogram's range and precision would need more memory than the decoder allows.
    #[error("histogram needs {bins} bins, more than the {MAX_DECODED_BINS} this decoder accepts")]
    TooLarge {
        /// Bins the histogram would need.
        bins: u64,
    },
    /// hdrhistogram's deserializer rejected the payload.
    #[error("histogram could not be decoded: {0}")]
    Decode(#[from] DeserializeError),
    /// hdrhistogram's serializer failed (only possible for counts above `i64::MAX`).
    #[error("histogram could not be encoded: {0}")]
    Encode(String),
}

/// A fresh auto-resizing histogram of microseconds with [`SIGFIG`] significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // `new` only fails for more than 5 significant digits.
    Histogram::new(SIGFIG).expect("3 significant digits is a valid histogram configuration")
}

/// Whole microseconds in `d`, clamped to [`MAX_US`].
#[inline]
pub(crate) fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).min(MAX_US)
}

/// Adds `src` into `dst` exactly, growing `dst` as needed. Never panics.
pub(crate) fn add_into(dst: &mut Histogram<u64>, src: &Histogram<u64>) {
    // Decoded histograms are created with fixed bounds; let them grow when used as a destination.
    dst.auto(true);
    if dst.add(src).is_err() {
        // Only possible when the counts array cannot be indexed (usize too small): clamp instead.
        for v in src.iter_recorded() {
            dst.saturating_record_n(v.value_iterated_to(), v.count_at_value());
        }
    }
}

/// A lazily allocated histogram of microseconds plus the exact min, max and sum of its values.
#[derive(Debug, Clone)]
pub(crate) struct Hist {
    h: Option<Histogram<u64>>,
    min: u64,
    max: u64,
    sum: u64,
}

impl Default for Hist {
    fn default() -> Self {
        Hist { h: None, min: u64::MAX, max: 0, sum: 0 }
    }
}

impl Hist {
    /// Records a duration (whole microseconds, clamped to one hour).
    #[inline]
    pub(crate) fn record(&mut self, d: Duration) {
        self.record_us(duration_us(d));
    }

    /// Records a value in microseconds, clamped to one hour.
    #[inline]
    pub(crate) fn record_us(&mut self, us: u64) {
        let v = us.min(MAX_US);
        let h = self.h.get_or_insert_with(new_histogram);
        if h.record(v).is_err() {
            h.saturating_record(v);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum = self.sum.saturating_add(v);
    }

    /// Number of recorded values.
    pub(crate) fn count(&self) -> u64 {
        self.h.as_ref().map_or(0, Histogram::len)
    }

    /// Exact (min, max, sum) in µs; min is `u64::MAX` when empty.
    pub(crate) fn stats(&self) -> (u64, u64, u64) {
        (self.min, self.max, self.sum)
    }

    /// The histogram, if any value was recorded or merged in.
    #[cfg(test)]
    pub(crate) fn histogram(&self) -> Option<&Histogram<u64>> {
        self.h.as_ref()
    }

    /// The histogram, if any value was recorded or merged in (for the wire codec).
    pub(crate) fn histogram_ref(&self) -> Option<&Histogram<u64>> {
        self.h.as_ref()
    }

    /// Adds everything recorded in `other` to `self`, exactly.
    pub(crate) fn merge(&mut self, other: &Hist) {
        let Some(src) = other.h.as_ref() else { return };
        if src.is_empty() {
            return;
        }
        match self.h.as_mut() {
            Some(dst) => add_into(dst, src),
            None => {
                let mut h = src.clone();
                h.auto(true);
                self.h = Some(h);
            }
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum = self.sum.saturating_add(other.sum);
    }

    /// Builds a `Hist` from a decoded histogram and exact statistics kept elsewhere.
    pub(crate) fn from_parts(mut h: Histogram<u64>, min: u64, max: u64, sum: u64) -> Hist {
        h.auto(true);
        Hist { h: Some(h), min, max, sum }
    }

    /// The summary (milliseconds) of the recorded values; all zeros when empty.
    pub(crate) fn summary(&self) -> Summary {
        match &self.h {
            Some(h) => summarize(h, self.min, self.max, Some(self.sum)),
            None => Summary::default(),
        }
    }

    /// The histogram as base64 V2+DEFLATE (an empty histogram when nothing was recorded).
    pub(crate) fn encode(&self) -> String {
        let encoded = match &self.h {
            Some(h) => encode_histogram(h),
            None => encode_histogram(&new_histogram()),
        };
        // Serialization only fails for counts above i64::MAX; the summary still carries the figures.
        encoded.unwrap_or_default()
    }
}

/// Microseconds to milliseconds.
pub(crate) fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Summarizes `h` with the given exact bounds (µs) and optional exact sum (µs).
/// Percentiles are clamped to `[min, max]`; an empty histogram gives all zeros.
pub(crate) fn summarize(h: &Histogram<u64>, min: u64, max: u64, sum: Option<u64>) -> Summary {
    let count = h.len();
    if count == 0 {
        return Summary::default();
    }
    let (lo, hi) = if min <= max { (min, max) } else { (h.min(), h.max()) };
    let at = |q: f64| us_to_ms(h.value_at_quantile(q).clamp(lo, hi));
    let mean_us = match sum {
        Some(sum) => sum as f64 / count as f64,
        None => h.mean(),
    };
    let mean_us = if mean_us.is_finite() { mean_us.clamp(lo as f64, hi as f64) } else { 0.0 };
    let p50 = at(0.5);
    Summary {
        count,
        min: us_to_ms(lo),
        max: us_to_ms(hi),
        mean: mean_us.round() / 1000.0,
        p50,
        median: p50,
        p75: at(0.75),
        p90: at(0.9),
        p95: at(0.95),
        p99: at(0.99),
        p999: at(0.999),
    }
}

/// Serializes a histogram as HdrHistogram V2+DEFLATE, base64-encoded (standard alphabet, padded).
/// The bytes are the same as the Java and Go implementations produce, so other tools can read them.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<String, HistogramError> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut buf).map_err(|e| HistogramError::Encode(e.to_string()))?;
    Ok(STANDARD.encode(buf))
}

/// Decodes a histogram written by [`encode_histogram`] (or any V2 / V2+DEFLATE HdrHistogram in
/// standard base64). Untrusted input is validated first, so bad data gives an error, never a panic
/// or an outsized allocation. The result has fixed bounds; merging into it lets it grow.
pub fn decode_histogram(b64: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = STANDARD.decode(b64.trim())?;
    let cookie = read_u32(&bytes, 0).ok_or(HistogramError::Format("shorter than its cookie"))?;
    let v2 = match cookie {
        V2_COOKIE => bytes,
        V2_COMPRESSED_COOKIE => inflate(&bytes)?,
        _ => return Err(HistogramError::Format("unknown cookie")),
    };
    validate_v2(&v2)?;
    Ok(Deserializer::new().deserialize(&mut v2.as_slice())?)
}

/// Inflates the zlib payload of a V2+DEFLATE histogram, refusing more than `MAX_INFLATED_BYTES`.
fn inflate(bytes: &[u8]) -> Result<Vec<u8>, HistogramError> {
    let len = read_u32(bytes, 4).ok_or(HistogramError::Format("truncated compressed header"))? as usize;
    let payload = bytes.get(8..).ok_or(HistogramError::Format("truncated compressed header"))?;
    let payload = payload.get(..len).ok_or(HistogramError::Format("compressed payload is truncated"))?;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(payload)
        .take(MAX_INFLATED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|_| HistogramError::Format("compressed payload is not valid zlib"))?;
    if out.len() as u64 > MAX_INFLATED_BYTES {
        return Err(HistogramError::Format("inflated payload is too large"));
    }
    Ok(out)
}

/// Checks an uncompressed V2 histogram before hdrhistogram sees it: the header must be consistent
/// with the bytes present, the counts array must be of a reasonable size, and every varint must
/// decode to a value the deserializer handles without overflowing.
fn validate_v2(v2: &[u8]) -> Result<(), HistogramError> {
    if read_u32(v2, 0) != Some(V2_COOKIE) {
        return Err(HistogramError::Format("inner cookie is not V2"));
    }
    if v2.len() < V2_HEADER_LEN {
        return Err(HistogramError::Format("truncated V2 header"));
    }
    let payload_len = read_u32(v2, 4).ok_or(HistogramError::Format("truncated V2 header"))? as usize;
    let digits = read_u32(v2, 12).ok_or(HistogramError::Format("truncated V2 header"))?;
    let low = read_u64(v2, 16).ok_or(HistogramError::Format("truncated V2 header"))?;
    let high = read_u64(v2, 24).ok_or(HistogramError::Format("truncated V2 header"))?;
    let payload = v2
        .get(V2_HEADER_LEN..V2_HEADER_LEN.saturating_add(payload_len))
        .ok_or(HistogramError::Format("payload is shorter than its header says"))?;
    let bins = bins_needed(low, high, digits).ok_or(HistogramError::Format("invalid range or precision"))?;
    if bins > MAX_DECODED_BINS {
        return Err(HistogramError::TooLarge { bins });
    }
    let mut pos = 0;
    while pos < payload.len() {
        let encoded = read_varint(payload, &mut pos).ok_or(HistogramError::Format("truncated varint"))?;
        // zig-zag of u64::MAX is i64::MIN, whose negation (a run of zeros) would overflow.
        if encoded == u64::MAX {
            return Err(HistogramError::Format("zero run out of range"));
        }
    }
    Ok(())
}

/// The length of the counts array hdrhistogram allocates for these parameters (mirrors
/// `Histogram::new_with_bounds`), or `None` if they are invalid.
fn bins_needed(low: u64, high: u64, digits: u32) -> Option<u64> {
    if !(1..=u64::MAX / 2).contains(&low) || high < 2 * low || digits > 5 {
        return None;
    }
    let largest = 2 * 10_u64.pow(digits);
    let sub_bucket_count_magnitude = u64::BITS - (largest - 1).leading_zeros(); // ceil(log2)
    let unit_magnitude = u64::BITS - 1 - low.leading_zeros(); // floor(log2)
    if unit_magnitude + sub_bucket_count_magnitude > 63 {
        return None;
    }
    let sub_bucket_count = 1_u64 << sub_bucket_count_magnitude;
    let mut smallest_untrackable = sub_bucket_count << unit_magnitude;
    let mut buckets = 1_u64;
    while smallest_untrackable <= high {
        if smallest_untrackable > u64::MAX / 2 {
            buckets += 1;
            break;
        }
        smallest_untrackable <<= 1;
        buckets += 1;
    }
    Some((buckets + 1) * (sub_bucket_count / 2))
}

/// Reads one LEB128-64b9B varint (HdrHistogram's encoding: up to 8 bytes of 7 bits, then 8 bits).
fn read_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0_u64;
    for i in 0..8 {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    let b = *buf.get(*pos)?;
    *pos += 1;
    Some(value | (u64::from(b) << 56))
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn read_u64(buf: &[u8], at: usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_is_exact() {
        let mut h = new_histogram();
        for v in [0, 1, 7, 999, 1_000, 12_345, 123_456, 5_000_000, MAX_US] {
            h.record_n(v, v % 7 + 1).unwrap();
        }
        let decoded = decode_histogram(&encode_histogram(&h).unwrap()).unwrap();
        assert_eq!(decoded.len(), h.len());
        assert_eq!(decoded.max(), h.max());
        assert_eq!(decoded.min(), h.min());
        let a: Vec<_> = h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        let b: Vec<_> =
            decoded.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        assert_eq!(a, b);
        assert_eq!(h.value_at_quantile(0.99), decoded.value_at_quantile(0.99));
    }

    #[test]
    fn empty_histogram_round_trips() {
        let decoded = decode_histogram(&Hist::default().encode()).unwrap();
        assert_eq!(decoded.len(), 0);
    }

    #[test]
    fn plain_v2_is_accepted() {
        let mut h = new_histogram();
        h.record(42).unwrap();
        let mut buf = Vec::new();
        hdrhistogram::serialization::V2Serializer::new().serialize(&h, &mut buf).unwrap();
        let decoded = decode_histogram(&STANDARD.encode(buf)).unwrap();
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded.max(), 42);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(decode_histogram("not base64!"), Err(HistogramError::Base64(_))));
        assert!(matches!(decode_histogram(""), Err(HistogramError::Format(_))));
        assert!(matches!(decode_histogram("AAAAAAAA"), Err(HistogramError::Format(_))));
        // A valid histogram cut short at every length must fail cleanly.
        let mut h = new_histogram();
        for v in 1..500 {
            h.record(v * 37).unwrap();
        }
        let mut bytes = Vec::new();
        V2DeflateSerializer::new().serialize(&h, &mut bytes).unwrap();
        for cut in 0..bytes.len() {
            assert!(decode_histogram(&STANDARD.encode(&bytes[..cut])).is_err(), "cut at {cut}");
        }
    }

    /// A plain V2 header followed by `payload`.
    fn v2(payload_len: u32, digits: u32, low: u64, high: u64, payload: &[u8]) -> String {
        let mut b = Vec::new();
        b.extend_from_slice(&V2_COOKIE.to_be_bytes());
        b.extend_from_slice(&payload_len.to_be_bytes());
        b.extend_from_slice(&0_u32.to_be_bytes());
        b.extend_from_slice(&digits.to_be_bytes());
        b.extend_from_slice(&low.to_be_bytes());
        b.extend_from_slice(&high.to_be_bytes());
        b.extend_from_slice(&1.0_f64.to_be_bytes());
        b.extend_from_slice(payload);
        STANDARD.encode(b)
    }

    #[test]
    fn hostile_headers_are_rejected() {
        // Claims a 4 GiB payload that is not there (the deserializer would allocate it).
        assert!(matches!(decode_histogram(&v2(u32::MAX, 3, 1, 1000, &[2])), Err(HistogramError::Format(_))));
        // Five digits over the whole u64 range: millions of bins.
        assert!(matches!(
            decode_histogram(&v2(1, 5, 1, u64::MAX, &[2])),
            Err(HistogramError::TooLarge { .. })
        ));
        // Invalid parameters.
        assert!(decode_histogram(&v2(1, 9, 1, 1000, &[2])).is_err());
        assert!(decode_histogram(&v2(1, 3, 0, 1000, &[2])).is_err());
        // A zero run of i64::MIN (varint of u64::MAX) would overflow when negated.
        let run = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(decode_histogram(&v2(9, 3, 1, 1000, &run)), Err(HistogramError::Format(_))));
        // A count past the end of the counts array is reported by hdrhistogram as an error.
        let far = [0xfd, 0xff, 0x03, 0x02]; // zero run of 32767, then count 1
        assert!(decode_histogram(&v2(4, 3, 1, 1000, &far)).is_err());
        // A well-formed hand-made one decodes: 3 zeros, then counts 2 and 1.
        let h = decode_histogram(&v2(3, 3, 1, 1000, &[0x05, 0x04, 0x02])).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h.count_at(3), 2);
        assert_eq!(h.count_at(4), 1);
    }

    #[test]
    fn bins_needed_matches_hdrhistogram() {
        for (low, high, digits) in
            [(1, 2, 3), (1, MAX_US, 3), (1, 1000, 2), (1000, 1 << 40, 4), (1, u64::MAX, 1)]
        {
            let h = Histogram::<u64>::new_with_bounds(low, high, digits as u8).unwrap();
            assert_eq!(bins_needed(low, high, digits), Some(h.distinct_values() as u64), "{low} {high}");
        }
    }

    #[test]
    fn values_above_an_hour_are_clamped_and_auto_resize_tracks_large_values() {
        let mut h = Hist::default();
        h.record_us(5);
        h.record(Duration::from_secs(2 * 3600));
        h.record(Duration::from_secs(30));
        assert_eq!(h.count(), 3);
        assert_eq!(h.stats(), (5, MAX_US, 5 + MAX_US + 30_000_000));
        let s = h.summary();
        assert_eq!(s.max, 3_600_000.0);
        // 30 s is recorded as 30 s, not clamped to the histogram's initial 2 ms top.
        assert!((s.p50 - 30_000.0).abs() <= 30.0, "p50 {}", s.p50);
    }

    #[test]
    fn percentiles_are_clamped_to_the_exact_max() {
        let mut h = Hist::default();
        for _ in 0..100 {
            h.record_us(123_456);
        }
        // The raw HdrHistogram answer is the top of the bucket, above what was recorded.
        let raw = h.histogram().unwrap().value_at_quantile(0.99);
        assert!(raw > 123_456, "raw p99 {raw}");
        let s = h.summary();
        assert_eq!(s.max, 123.456);
        assert_eq!(s.min, 123.456);
        for p in [s.p50, s.median, s.p75, s.p90, s.p95, s.p99, s.p999, s.mean] {
            assert_eq!(p, 123.456);
        }
    }

    #[test]
    fn empty_summary_is_zeros() {
        let s = Hist::default().summary();
        assert_eq!(s, Summary::default());
        assert_eq!(s.count, 0);
        assert_eq!(s.p99, 0.0);
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("null") && !json.contains("NaN"), "{json}");
    }

    #[test]
    fn merge_is_exact_across_differently_sized_histograms() {
        let mut small = Hist::default();
        small.record_us(10);
        let mut big = Hist::default();
        big.record_us(10);
        big.record_us(2_000_000);
        let mut a = small.clone();
        a.merge(&big);
        let mut b = big.clone();
        b.merge(&small);
        for m in [&a, &b] {
            assert_eq!(m.count(), 3);
            assert_eq!(m.stats(), (10, 2_000_000, 2_000_020));
            assert_eq!(m.histogram().unwrap().count_at(10), 2);
        }
        // Merging into a decoded (fixed-bound) histogram grows it instead of failing.
        let decoded = decode_histogram(&small.encode()).unwrap();
        let mut c = Hist::from_parts(decoded, 10, 10, 10);
        c.merge(&big);
        assert_eq!(c.count(), 3);
        assert_eq!(c.summary().max, 2000.0);
    }
}

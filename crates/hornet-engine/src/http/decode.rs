//! Content decoding of kept response bodies (Artillery's `gzip: true`, got's `decompress`):
//! `gzip` (and `x-gzip`), `deflate` (zlib-wrapped or, as some servers send it, raw) and `br`,
//! including stacked encodings (`content-encoding: gzip, br` is undone right to left).
//!
//! Decoding runs inline on the VU's thread; it is only done for bodies the caller keeps.

use std::io::Read;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

/// The largest decoded body accepted: a bigger one (or a decompression bomb) is a protocol error.
pub(crate) const MAX_DECODED: usize = 100 << 20;

/// A content coding this module can undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Brotli => "br",
        }
    }
}

/// The codings named by `content-encoding`, in the order they were applied. `None` when one of
/// them is unknown (the body is then returned as received, as got does); `identity` is skipped.
fn codings(headers: &HeaderMap) -> Option<Vec<Coding>> {
    let mut out = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let text = std::str::from_utf8(value.as_bytes()).ok()?;
        for token in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let coding = if token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip") {
                Coding::Gzip
            } else if token.eq_ignore_ascii_case("deflate") {
                Coding::Deflate
            } else if token.eq_ignore_ascii_case("br") {
                Coding::Brotli
            } else if token.eq_ignore_ascii_case("identity") {
                continue;
            } else {
                return None;
            };
            out.push(coding);
        }
    }
    Some(out)
}

/// Decodes `body` according to the response's `content-encoding`. Returns the body unchanged when
/// it is empty, not encoded, or encoded with a coding this module does not know. Fails with a
/// message on a corrupt body or one that decodes to more than `limit` bytes.
pub(crate) fn decode(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, String> {
    if body.is_empty() || !headers.contains_key(CONTENT_ENCODING) {
        return Ok(body);
    }
    let Some(codings) = codings(headers) else { return Ok(body) };
    let mut data = body;
    for coding in codings.into_iter().rev() {
        data = decode_one(coding, &data, limit)?;
    }
    Ok(data)
}

fn decode_one(coding: Coding, input: &[u8], limit: usize) -> Result<Bytes, String> {
    match coding {
        Coding::Gzip => read_capped(flate2::read::MultiGzDecoder::new(input), coding, limit),
        Coding::Deflate if is_zlib(input) => {
            read_capped(flate2::read::ZlibDecoder::new(input), coding, limit)
        }
        Coding::Deflate => read_capped(flate2::read::DeflateDecoder::new(input), coding, limit),
        Coding::Brotli => read_capped(brotli::Decompressor::new(input, 4096), coding, limit),
    }
}

/// True when `input` starts with a zlib header (RFC 1950: method 8, check bits), which tells the
/// correct `deflate` encoding from the raw deflate stream some servers send instead.
fn is_zlib(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Reads a decoder to its end, failing past `limit` bytes.
fn read_capped<R: Read>(decoder: R, coding: Coding, limit: usize) -> Result<Bytes, String> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| format!("invalid {} response body: {e}", coding.name()))?;
    if out.len() > limit {
        return Err(format!("{} response body decodes to more than {limit} bytes", coding.name()));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::io::Write;

    const TEXT: &[u8] = b"the quick brown fox jumps over the lazy dog, again and again and again";

    fn headers(encoding: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
        h
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn br(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(data).expect("write");
        }
        out
    }

    fn dec(encoding: &'static str, body: Vec<u8>) -> Result<Bytes, String> {
        decode(&headers(encoding), Bytes::from(body), MAX_DECODED)
    }

    #[test]
    fn each_coding_round_trips() {
        assert_eq!(dec("gzip", gzip(TEXT)).as_deref(), Ok(TEXT));
        assert_eq!(dec("X-Gzip", gzip(TEXT)).as_deref(), Ok(TEXT));
        assert_eq!(dec("deflate", zlib(TEXT)).as_deref(), Ok(TEXT));
        assert_eq!(dec("deflate", raw_deflate(TEXT)).as_deref(), Ok(TEXT));
        assert_eq!(dec("br", br(TEXT)).as_deref(), Ok(TEXT));
    }

    #[test]
    fn stacked_codings_are_undone_right_to_left() {
        assert_eq!(dec("gzip, br", br(&gzip(TEXT))).as_deref(), Ok(TEXT));
        let mut h = headers("identity");
        h.append(CONTENT_ENCODING, HeaderValue::from_static("deflate"));
        assert_eq!(decode(&h, Bytes::from(zlib(TEXT)), MAX_DECODED).as_deref(), Ok(TEXT));
    }

    #[test]
    fn plain_unknown_and_empty_bodies_pass_through() {
        assert_eq!(decode(&HeaderMap::new(), Bytes::from_static(TEXT), MAX_DECODED).as_deref(), Ok(TEXT));
        assert_eq!(dec("zstd", TEXT.to_vec()).as_deref(), Ok(TEXT));
        assert_eq!(dec("gzip, zstd", TEXT.to_vec()).as_deref(), Ok(TEXT));
        assert_eq!(dec("gzip", Vec::new()).as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn corrupt_and_truncated_bodies_fail() {
        let err = dec("gzip", b"definitely not gzip".to_vec()).expect_err("corrupt gzip");
        assert!(err.starts_with("invalid gzip response body"), "{err}");
        let mut truncated = gzip(TEXT);
        truncated.truncate(truncated.len() / 2);
        assert!(dec("gzip", truncated).is_err());
        assert!(dec("deflate", vec![0x78, 0x9c, 0xff, 0xff, 0xff]).is_err());
        let mut truncated = br(TEXT);
        truncated.truncate(truncated.len() / 2);
        assert!(dec("br", truncated).is_err());
    }

    #[test]
    fn decoded_size_is_capped() {
        let big = vec![b'a'; 10_000];
        let err = decode(&headers("gzip"), Bytes::from(gzip(&big)), 1_000).expect_err("over the cap");
        assert!(err.contains("more than 1000 bytes"), "{err}");
        let ok = decode(&headers("gzip"), Bytes::from(gzip(&big)), 10_000).expect("at the cap");
        assert_eq!(ok.len(), 10_000);
    }

    #[test]
    fn zlib_header_detection() {
        assert!(is_zlib(&zlib(TEXT)));
        assert!(!is_zlib(&raw_deflate(TEXT)));
        assert!(!is_zlib(&[0x78]));
    }
}

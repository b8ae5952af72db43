//! The native helpers behind the prelude's Node built-ins, installed as the global `__hornet`:
//! digests and HMACs (ring, md-5) of strings or bytes, secure random bytes, UTF-8/base64/hex codecs, URL parsing (the
//! `url` crate), read-only files relative to the script, CommonJS compilation, module resolution,
//! timers, the per-VU `Math.random`, console output and `events.emit` metrics.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rquickjs::context::EvalOptions;
use rquickjs::function::{Func, Opt};
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};

mod fast;

use crate::LoadError;
use crate::files::Files;
use crate::processor::Shared;
use crate::resolve::{self, Resolved};

/// The CommonJS wrapper; kept on the file's first line so line numbers in stacks stay true.
pub const CJS_PREFIX: &str = "(function (exports, require, module, __filename, __dirname) {";
const CJS_SUFFIX: &str = "\n})";
/// The largest `randomBytes` request (as Node's limit, rounded).
const MAX_RANDOM_BYTES: usize = 1 << 30;

/// Copies the bytes out of a typed array (a `Buffer` or `Uint8Array`).
fn bytes_of(array: &TypedArray<'_, u8>) -> Vec<u8> {
    // SAFETY: the slice is copied at once; no JavaScript runs while it is alive.
    unsafe { array.as_bytes() }.map(<[u8]>::to_vec).unwrap_or_default()
}

fn new_bytes<'js>(ctx: &Ctx<'js>, bytes: Vec<u8>) -> rquickjs::Result<TypedArray<'js, u8>> {
    TypedArray::new(ctx.clone(), bytes)
}

fn throw(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    Exception::throw_message(ctx, message)
}

/// A digest as `Hash.digest(encoding)` returns it: 0 bytes (a `Uint8Array` the prelude wraps as a
/// `Buffer`), 1 hex, 2 base64, 3 base64url.
fn digest_output<'js>(ctx: &Ctx<'js>, bytes: Vec<u8>, out: i32) -> rquickjs::Result<Value<'js>> {
    let text = match out {
        1 => hex_encode(&bytes),
        2 => base64::engine::general_purpose::STANDARD.encode(&bytes),
        3 => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes),
        _ => return Ok(new_bytes(ctx, bytes)?.into_value()),
    };
    Ok(rquickjs::String::from_str(ctx.clone(), &text)?.into_value())
}

/// Lower-case hex, two digits a byte.
fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.extend_from_slice(&[DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]]);
    }
    // Only ASCII digits were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Lenient base64 (Node's): either alphabet, padding optional, whitespace ignored.
fn base64_decode(text: &str) -> Vec<u8> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    engine.decode(cleaned.as_bytes()).unwrap_or_default()
}

/// A digest of `data` by `alg` (`md5`, `sha1`, `sha256`, `sha384`, `sha512`).
pub fn digest(alg: &str, data: &[u8]) -> Option<Vec<u8>> {
    use ring::digest as d;
    let algorithm = match alg {
        "md5" => {
            use md5::Digest as _;
            return Some(md5::Md5::digest(data).to_vec());
        }
        "sha1" => &d::SHA1_FOR_LEGACY_USE_ONLY,
        "sha256" => &d::SHA256,
        "sha384" => &d::SHA384,
        "sha512" => &d::SHA512,
        _ => return None,
    };
    Some(d::digest(algorithm, data).as_ref().to_vec())
}

/// An HMAC of `data` with `key` by `alg` (as [`digest`]).
#[cfg(test)]
pub fn hmac(alg: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    HmacKeys::default().sign(alg, key, data)
}

/// The last HMAC key a processor signed with, kept for the next signature: making a key hashes
/// its two padded blocks, as much work as signing a short message, and a processor nearly always
/// signs with one secret.
#[derive(Default)]
pub(crate) struct HmacKeys {
    last: RefCell<Option<(ring::hmac::Algorithm, Vec<u8>, ring::hmac::Key)>>,
}

impl HmacKeys {
    /// An HMAC of `data` with `key` by `alg` (as [`digest`]).
    pub(crate) fn sign(&self, alg: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        use ring::hmac as h;
        let algorithm = match alg {
            "md5" => return Some(hmac_md5(key, data)),
            "sha1" => h::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            "sha256" => h::HMAC_SHA256,
            "sha384" => h::HMAC_SHA384,
            "sha512" => h::HMAC_SHA512,
            _ => return None,
        };
        let mut last = self.last.borrow_mut();
        match &*last {
            Some((a, k, made)) if *a == algorithm && k == key => Some(h::sign(made, data).as_ref().to_vec()),
            _ => {
                let made = h::Key::new(algorithm, key);
                let signature = h::sign(&made, data).as_ref().to_vec();
                *last = Some((algorithm, key.to_vec(), made));
                Some(signature)
            }
        }
    }
}

/// HMAC-MD5 (RFC 2104), which ring does not provide.
fn hmac_md5(key: &[u8], data: &[u8]) -> Vec<u8> {
    use md5::Digest as _;
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..16].copy_from_slice(&md5::Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = md5::Md5::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = md5::Md5::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// The parts of a URL as the WHATWG `URL` class exposes them.
fn url_parts<'js>(ctx: &Ctx<'js>, url: &url::Url) -> rquickjs::Result<Object<'js>> {
    let parts = Object::new(ctx.clone())?;
    let port = url.port().map(|p| p.to_string()).unwrap_or_default();
    let hostname = url.host_str().unwrap_or("").to_string();
    let host = if port.is_empty() { hostname.clone() } else { format!("{hostname}:{port}") };
    let origin = url.origin();
    parts.set("href", url.as_str())?;
    parts.set("protocol", format!("{}:", url.scheme()))?;
    parts.set("username", url.username())?;
    parts.set("password", url.password().unwrap_or(""))?;
    parts.set("host", host)?;
    parts.set("hostname", hostname)?;
    parts.set("port", port)?;
    parts.set("pathname", url.path())?;
    parts
        .set("search", url.query().filter(|q| !q.is_empty()).map(|q| format!("?{q}")).unwrap_or_default())?;
    parts
        .set("hash", url.fragment().filter(|f| !f.is_empty()).map(|f| format!("#{f}")).unwrap_or_default())?;
    parts.set("origin", if origin.is_tuple() { origin.ascii_serialization() } else { "null".into() })?;
    Ok(parts)
}

fn set_url_part(url: &mut url::Url, part: &str, value: &str) -> Result<(), String> {
    let bad = |what: &str| format!("Invalid URL {what}: {value}");
    match part {
        "href" => *url = url::Url::parse(value).map_err(|e| format!("Invalid URL: {value} ({e})"))?,
        "protocol" => url.set_scheme(value.trim_end_matches(':')).map_err(|()| bad("protocol"))?,
        "username" => url.set_username(value).map_err(|()| bad("username"))?,
        "password" => {
            url.set_password(Some(value).filter(|v| !v.is_empty())).map_err(|()| bad("password"))?
        }
        "host" => {
            let (host, port) = match value.rsplit_once(':') {
                Some((h, p))
                    if p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(']')
                        || value.starts_with('[') && value.contains("]:") =>
                {
                    (h, Some(p))
                }
                _ => (value, None),
            };
            url.set_host(Some(host)).map_err(|e| format!("Invalid URL host: {value} ({e})"))?;
            if let Some(p) = port {
                url.set_port(p.parse().ok()).map_err(|()| bad("port"))?;
            }
        }
        "hostname" => url.set_host(Some(value)).map_err(|e| format!("Invalid URL host: {value} ({e})"))?,
        "port" => url
            .set_port(if value.is_empty() { None } else { Some(value.parse().map_err(|_| bad("port"))?) })
            .map_err(|()| bad("port"))?,
        "pathname" => url.set_path(value),
        "search" => url.set_query(Some(value.trim_start_matches('?')).filter(|q| !q.is_empty())),
        "hash" => url.set_fragment(Some(value.trim_start_matches('#')).filter(|f| !f.is_empty())),
        _ => return Err(format!("unknown URL part {part}")),
    }
    Ok(())
}

/// Reads a CommonJS file and compiles it into its wrapper function, refusing (with file:line) a
/// file outside `node_modules` that names a module that cannot work here.
fn compile<'js>(ctx: &Ctx<'js>, files: &Files, path: &str) -> rquickjs::Result<Function<'js>> {
    crate::deps::note(Path::new(path));
    let source = files.read_text(Path::new(path), path).map_err(|e| throw(ctx, &e))?;
    if !Path::new(path).components().any(|c| c.as_os_str() == "node_modules")
        && let Some((line, column, why)) = resolve::find_refused(&source)
    {
        return Err(throw(ctx, &LoadError::at(path, line, column, why).to_string()));
    }
    let body = match source.strip_prefix("#!") {
        Some(rest) => format!("//{rest}"),
        None => source,
    };
    let mut options = EvalOptions::default();
    options.strict = false;
    options.filename = Some(path.to_string());
    ctx.eval_with_options(format!("{CJS_PREFIX}{body}{CJS_SUFFIX}"), options)
}

/// Monotonic origin for `process.hrtime`.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// A path given to `fs`: relative ones are taken from the script's folder.
fn script_relative(base: &Path, path: &str) -> PathBuf {
    let path = path.strip_prefix("file://").unwrap_or(path);
    base.join(path)
}

/// Installs `__hornet` on the global object.
pub fn install<'js>(ctx: &Ctx<'js>, shared: &Rc<Shared>, script: &Path) -> rquickjs::Result<()> {
    let h = Object::new(ctx.clone())?;
    h.set("scriptPath", script.to_string_lossy().into_owned())?;
    h.set("pid", std::process::id())?;
    h.set("cpus", std::thread::available_parallelism().map_or(1, usize::from))?;
    h.set("utf8Encode", Func::from(|ctx: Ctx<'js>, s: String| new_bytes(&ctx, s.into_bytes())))?;
    h.set(
        "utf8Decode",
        Func::from(|b: TypedArray<'js, u8>| String::from_utf8_lossy(&bytes_of(&b)).into_owned()),
    )?;
    h.set(
        "base64Encode",
        Func::from(|b: TypedArray<'js, u8>, url_safe: Opt<bool>| {
            let bytes = bytes_of(&b);
            if url_safe.0.unwrap_or(false) {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            } else {
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
        }),
    )?;
    h.set("base64Decode", Func::from(|ctx: Ctx<'js>, s: String| new_bytes(&ctx, base64_decode(&s))))?;
    fast::install(ctx, &h, shared)?;
    // The lazily made `headers` and `timings` of an afterResponse `response` (processor/request.rs).
    let raw_text = |raw: &Value<'js>| raw.as_string().and_then(|s| s.to_string().ok()).unwrap_or_default();
    h.set(
        "responseHeaders",
        Func::from(move |ctx: Ctx<'js>, raw: Value<'js>| {
            crate::processor::headers_object(&ctx, &raw_text(&raw))
        }),
    )?;
    h.set(
        "responseTimings",
        Func::from(move |ctx: Ctx<'js>, raw: Value<'js>| {
            crate::processor::timings_object(&ctx, &raw_text(&raw))
        }),
    )?;
    h.set("hexEncode", Func::from(|b: TypedArray<'js, u8>| hex_encode(&bytes_of(&b))))?;
    h.set(
        "randomBytes",
        Func::from(|ctx: Ctx<'js>, n: f64| {
            if !(0.0..=MAX_RANDOM_BYTES as f64).contains(&n) || n.fract() != 0.0 {
                return Err(throw(
                    &ctx,
                    &format!("randomBytes: size must be an integer from 0 to {MAX_RANDOM_BYTES}, got {n}"),
                ));
            }
            let mut bytes = vec![0u8; n as usize];
            ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
                .map_err(|_| throw(&ctx, "randomBytes: the system's random source failed"))?;
            new_bytes(&ctx, bytes)
        }),
    )?;
    let (base, files) = (shared.base_dir.clone(), shared.files.clone());
    h.set(
        "readFile",
        Func::from(move |ctx: Ctx<'js>, path: String| {
            let full = script_relative(&base, &path);
            crate::deps::note(&full);
            let bytes = files.read(&full, &path).map_err(|e| throw(&ctx, &e))?;
            new_bytes(&ctx, bytes)
        }),
    )?;
    let files = shared.files.clone();
    h.set(
        "readText",
        Func::from(move |ctx: Ctx<'js>, path: String| {
            crate::deps::note(Path::new(&path));
            files.read_text(Path::new(&path), &path).map_err(|e| throw(&ctx, &e))
        }),
    )?;
    let (base, files) = (shared.base_dir.clone(), shared.files.clone());
    h.set(
        "stat",
        // `quiet` (for `existsSync`): a path that may not be read is `null`, as a missing one,
        // rather than an error.
        Func::from(
            move |ctx: Ctx<'js>, path: String, quiet: Opt<bool>| -> rquickjs::Result<Option<Object<'js>>> {
                let full = script_relative(&base, &path);
                if let Err(e) = files.check(&full, &path) {
                    return if quiet.0.unwrap_or(false) { Ok(None) } else { Err(throw(&ctx, &e)) };
                }
                let Ok(meta) = std::fs::metadata(full) else {
                    return Ok(None);
                };
                let stat = Object::new(ctx)?;
                stat.set("size", meta.len() as f64)?;
                stat.set("file", meta.is_file())?;
                stat.set("dir", meta.is_dir())?;
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
                stat.set("mtime", mtime)?;
                Ok(Some(stat))
            },
        ),
    )?;
    let (base, files) = (shared.base_dir.clone(), shared.files.clone());
    h.set(
        "readDir",
        Func::from(move |ctx: Ctx<'js>, path: String| {
            let full = script_relative(&base, &path);
            files.check(&full, &path).map_err(|e| throw(&ctx, &e))?;
            let entries = std::fs::read_dir(&full)
                .map_err(|e| throw(&ctx, &format!("{e}, scandir '{}'", full.display())))?;
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            Ok::<_, rquickjs::Error>(names)
        }),
    )?;
    let files = shared.files.clone();
    h.set("compile", Func::from(move |ctx: Ctx<'js>, path: String| compile(&ctx, &files, &path)))?;
    let resolve_state = shared.clone();
    h.set(
        "resolve",
        Func::from(move |ctx: Ctx<'js>, from: String, spec: String| {
            match resolve::resolve(&from, &spec, false, &resolve_state.files) {
                Ok(found) => Ok(found.key()),
                Err(why) => {
                    *resolve_state.last_resolve_error.borrow_mut() = Some(why.clone());
                    Err(throw(&ctx, &why))
                }
            }
        }),
    )?;
    let env_state = shared.clone();
    h.set(
        "env",
        Func::from(move |ctx: Ctx<'js>| {
            let env = Object::new(ctx)?;
            for (k, v) in std::env::vars_os() {
                if let (Some(k), Some(v)) = (k.to_str(), v.to_str()) {
                    env.set(k, v)?;
                }
            }
            // A distributed worker's variables from the plan win over its own.
            for (k, v) in &env_state.env {
                env.set(k.as_str(), v.as_str())?;
            }
            Ok::<_, rquickjs::Error>(env)
        }),
    )?;
    h.set("hostname", Func::from(hostname))?;
    h.set(
        "cwd",
        Func::from(|| {
            std::env::current_dir().map(|d| d.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".into())
        }),
    )?;
    h.set(
        "hrtime",
        Func::from(|| {
            let since = epoch().elapsed();
            vec![since.as_secs() as f64, f64::from(since.subsec_nanos())]
        }),
    )?;
    h.set(
        "print",
        Func::from(|level: i32, text: String| {
            // Never `println!`: a closed stdout (`hornet run ... | head`) must not panic the VU
            // and lose its requests; the line is dropped instead.
            use std::io::Write as _;
            let _ = if level >= 2 {
                writeln!(std::io::stderr(), "{text}")
            } else {
                writeln!(std::io::stdout(), "{text}")
            };
        }),
    )?;
    h.set(
        "write",
        Func::from(|fd: i32, text: String| {
            use std::io::Write as _;
            if fd == 2 {
                let _ = std::io::stderr().write_all(text.as_bytes());
            } else {
                let _ = std::io::stdout().write_all(text.as_bytes());
            }
        }),
    )?;
    let timers = shared.clone();
    h.set(
        "timerAdd",
        Func::from(move |id: u32, ms: f64| {
            let delay = Duration::from_secs_f64((ms.max(0.0) / 1000.0).min(86_400.0 * 365.0));
            timers.timers.borrow_mut().push(Reverse((Instant::now() + delay, id)));
        }),
    )?;
    let rng = shared.clone();
    h.set(
        "random",
        Func::from(move || {
            let s = rng.rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            rng.rng.set(s);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        }),
    )?;
    h.set(
        "urlParse",
        Func::from(|ctx: Ctx<'js>, input: String, base: Opt<String>| {
            let parsed = match base.0 {
                Some(base) => url::Url::parse(&base).and_then(|b| b.join(&input)),
                None => url::Url::parse(&input),
            };
            match parsed {
                Ok(url) => url_parts(&ctx, &url),
                Err(e) => Err(Exception::throw_type(&ctx, &format!("Invalid URL: {input} ({e})"))),
            }
        }),
    )?;
    h.set(
        "urlSet",
        Func::from(|ctx: Ctx<'js>, href: String, part: String, value: String| {
            let mut url = url::Url::parse(&href)
                .map_err(|e| Exception::throw_type(&ctx, &format!("Invalid URL: {href} ({e})")))?;
            set_url_part(&mut url, &part, &value).map_err(|e| Exception::throw_type(&ctx, &e))?;
            url_parts(&ctx, &url)
        }),
    )?;
    crate::http::install(&h, shared)?;
    ctx.globals().set("__hornet", h)?;
    Ok(())
}

/// Resolves an `import` for the ES module loader.
pub(crate) fn resolve_import(base: &str, name: &str, files: &Files) -> Result<Resolved, String> {
    resolve::resolve(base, name, true, files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn digests_match_known_vectors() {
        assert_eq!(hex(&digest("md5", b"abc").unwrap()), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(&digest("sha1", b"abc").unwrap()), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(&digest("sha256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digest("sha3", b"abc").is_none());
    }

    #[test]
    fn hmacs_match_rfc_vectors() {
        // RFC 2202 / RFC 4231 test case 2.
        let (key, data) = (b"Jefe".as_slice(), b"what do ya want for nothing?".as_slice());
        assert_eq!(hex(&hmac("md5", key, data).unwrap()), "750c783e6ab0b503eaa86e310a5db738");
        assert_eq!(hex(&hmac("sha1", key, data).unwrap()), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
        assert_eq!(
            hex(&hmac("sha256", key, data).unwrap()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A key longer than the block is hashed first (RFC 2202 test case 6).
        assert_eq!(
            hex(&hmac("md5", &[0xaa; 80], b"Test Using Larger Than Block-Size Key - Hash Key First").unwrap()),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
        );
    }

    #[test]
    fn base64_decoding_is_lenient_like_node() {
        assert_eq!(base64_decode("aGk="), b"hi");
        assert_eq!(base64_decode("aGk"), b"hi");
        assert_eq!(base64_decode("-_8"), [0xfb, 0xff]);
        assert_eq!(base64_decode("aG k=\n"), b"hi");
    }
}

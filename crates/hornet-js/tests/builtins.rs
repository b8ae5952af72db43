//! The Node built-ins real processors use, checked against known values: crypto digests and
//! HMACs, Buffer encodings, url/querystring/path/util/events/os/fs/process, timers and the
//! per-VU seeded `Math.random`.

use std::collections::HashMap;
use std::path::Path;

use hornet_js::{Processor, ProcessorOptions};
use serde_json::{Value, json};

/// Runs `body` as a function step (with `context`, `require` in scope) and returns its vars.
async fn run(dir: &Path, body: &str) -> HashMap<String, Value> {
    let source =
        format!("exports.f = async function (context, events) {{\n  const v = context.vars;\n{body}\n}};\n");
    std::fs::write(dir.join("p.js"), source).unwrap();
    let processor =
        Processor::load(&dir.join("p.js"), ProcessorOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut vars = HashMap::new();
    processor.call_step(&vu, "f", &mut vars).await.unwrap_or_else(|e| panic!("{e}: {}", e.stack));
    vars
}

#[tokio::test]
async fn crypto_digests_and_hmacs_match_known_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let v = run(
        dir.path(),
        r#"
  const crypto = require('crypto');
  v.sha1 = crypto.createHash('sha1').update('abc').digest('hex');
  v.sha256 = crypto.createHash('SHA256').update('a').update(Buffer.from('bc')).digest('hex');
  v.sha512b64 = crypto.createHash('sha512').update('').digest('base64');
  v.md5 = crypto.createHash('md5').update('The quick brown fox jumps over the lazy dog').digest('hex');
  v.hmac1 = crypto.createHmac('sha1', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex');
  v.hmac256 = crypto.createHmac('sha256', Buffer.from('key')).update('The quick brown fox jumps over the lazy dog').digest('base64');
  v.hmacMd5 = crypto.createHmac('md5', 'key').update('The quick brown fox jumps over the lazy dog').digest('hex');
  v.digestLen = crypto.createHash('sha384').update('x').digest().length;
  const partial = crypto.createHash('sha256').update('a');
  const copied = partial.copy();
  partial.update('zz');
  v.copySha256 = copied.update('b').update('c').digest('hex');
  v.twoKeys = [crypto.createHmac('sha256', 'k1').update('m').digest('hex'), crypto.createHmac('sha256', 'k2').update('m').digest('hex'), crypto.createHmac('sha256', 'k1').update('m').digest('hex')];
  try { crypto.createHash('constructor'); v.constructorHash = 'made'; } catch (e) { v.constructorHash = e.message; }
  v.uuid = crypto.randomUUID();
  v.bytes = crypto.randomBytes(12).length;
  const ints = Array.from({ length: 200 }, () => crypto.randomInt(3, 7));
  v.intsInRange = ints.every((i) => i >= 3 && i < 7) && new Set(ints).size === 4;
  try { crypto.createHash('whirlpool'); } catch (e) { v.unsupported = e.message; }
  v.safeEqual = crypto.timingSafeEqual(Buffer.from('ab'), Buffer.from('ab'));
  v.hmacInParts = crypto.createHmac('sha256', 'key').update('The quick ').update('brown fox jumps over the lazy dog').digest('hex');
  v.utf8 = crypto.createHash('sha256').update('é').digest('hex');
  v.latin1 = crypto.createHash('sha256').update('\u00c3\u00a9', 'latin1').digest('hex');
  v.urlSafe = crypto.createHash('sha256').update('abc').digest('base64url');
"#,
    )
    .await;
    assert_eq!(v["sha1"], json!("a9993e364706816aba3e25717850c26c9cd0d89d"));
    assert_eq!(v["sha256"], json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    assert_eq!(
        v["sha512b64"],
        json!("z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
    );
    assert_eq!(v["md5"], json!("9e107d9d372bb6826bd81d3542a419d6"));
    assert_eq!(v["hmac1"], json!("de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"));
    assert_eq!(v["hmac256"], json!("97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="));
    assert_eq!(v["hmacMd5"], json!("80070713463e7749b90c2dc24911e275"));
    assert_eq!(v["digestLen"], json!(48));
    // A copy keeps the data so far and goes its own way.
    assert_eq!(v["copySha256"], v["sha256"]);
    // Keys are reused per secret: a signature with another key in between stays right.
    let two = v["twoKeys"].as_array().unwrap();
    assert_ne!(two[0], two[1]);
    assert_eq!(two[0], two[2]);
    assert_eq!(
        two[0],
        json!(hex(&ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k1"), b"m")))
    );
    assert!(
        v["constructorHash"].as_str().is_some_and(|m| m.contains("not supported")),
        "{}",
        v["constructorHash"]
    );
    let uuid = v["uuid"].as_str().unwrap();
    assert_eq!((uuid.len(), &uuid[14..15]), (36, "4"), "{uuid}");
    assert_eq!(v["bytes"], json!(12));
    assert_eq!(v["intsInRange"], json!(true));
    assert!(v["unsupported"].as_str().unwrap().contains("whirlpool"));
    assert_eq!(v["safeEqual"], json!(true));
    assert_eq!(v["hmacInParts"], json!("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"));
    let e_acute = "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c";
    assert_eq!((&v["utf8"], &v["latin1"]), (&json!(e_acute), &json!(e_acute)), "a string is hashed as UTF-8");
    assert_eq!(v["urlSafe"], json!("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"));
}

#[tokio::test]
async fn buffers_encode_and_decode_like_node() {
    let dir = tempfile::tempdir().unwrap();
    let v = run(
        dir.path(),
        r#"
  v.b64 = Buffer.from('héllo wörld').toString('base64');
  v.back = Buffer.from(v.b64, 'base64').toString();
  v.hex = Buffer.from([0, 15, 255]).toString('hex');
  v.fromHex = Array.from(Buffer.from('00ff10', 'hex'));
  v.b64url = Buffer.from([251, 255]).toString('base64url');
  v.concat = Buffer.concat([Buffer.from('ab'), Buffer.from('cd')]).toString();
  v.byteLength = Buffer.byteLength('héllo');
  v.isBuffer = Buffer.isBuffer(Buffer.alloc(2)) && !Buffer.isBuffer('x');
  v.slice = Buffer.from('hello').slice(1, 3).toString();
  v.json = JSON.stringify(Buffer.from('hi'));
  v.btoa = btoa('user:pass');
  v.encoded = new TextDecoder().decode(new TextEncoder().encode('ü'));
"#,
    )
    .await;
    assert_eq!(v["b64"], json!("aMOpbGxvIHfDtnJsZA=="));
    assert_eq!(v["back"], json!("héllo wörld"));
    assert_eq!(v["hex"], json!("000fff"));
    assert_eq!(v["fromHex"], json!([0, 255, 16]));
    assert_eq!(v["b64url"], json!("-_8"));
    assert_eq!(v["concat"], json!("abcd"));
    assert_eq!(v["byteLength"], json!(6));
    assert_eq!(v["isBuffer"], json!(true));
    assert_eq!(v["slice"], json!("el"));
    assert_eq!(v["json"], json!(r#"{"type":"Buffer","data":[104,105]}"#));
    assert_eq!(v["btoa"], json!("dXNlcjpwYXNz"));
    assert_eq!(v["encoded"], json!("ü"));
}

#[tokio::test]
async fn url_querystring_path_and_util_behave_like_node() {
    let dir = tempfile::tempdir().unwrap();
    let v = run(
        dir.path(),
        r#"
  const { URL } = require('url');
  const u = new URL('/a/b?x=1&y=two#frag', 'http://user@127.0.0.1:8080');
  v.url = [u.href, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin];
  u.searchParams.append('z', 'a b');
  v.after = u.toString();
  u.pathname = '/c';
  v.path = u.href;
  try { new URL('not a url'); } catch (e) { v.invalid = e.name; }
  const legacy = require('url').parse('http://127.0.0.1/p?q=1', true);
  v.legacy = [legacy.hostname, legacy.pathname, legacy.query.q];
  const qs = require('querystring');
  v.qs = qs.stringify({ a: 'x y', b: [1, 2], c: '' });
  v.qsParse = qs.parse('a=1&a=2&b=%20c+d');
  const path = require('path');
  v.path1 = path.join('/a/b', '../c', './d.txt');
  v.path2 = [path.basename('/x/y.json', '.json'), path.extname('f.tar.gz'), path.dirname('/x/y/z')];
  v.path3 = path.resolve('/root', 'a', '..', 'b');
  const util = require('util');
  v.fmt = util.format('%s has %d items: %j', 'cart', 3, { a: 1 });
  v.inspect = util.inspect({ a: [1, 'two'], b: { c: null } });
  v.promisified = await util.promisify((x, cb) => cb(null, x * 2))(21);
  const EventEmitter = require('events');
  const em = new EventEmitter();
  const got = [];
  em.on('x', (n) => got.push(n));
  em.once('x', (n) => got.push(n * 10));
  em.emit('x', 1); em.emit('x', 2);
  v.events = got;
  v.eol = require('os').EOL;
  v.hostname = typeof require('os').hostname();
"#,
    )
    .await;
    assert_eq!(
        v["url"],
        json!([
            "http://user@127.0.0.1:8080/a/b?x=1&y=two#frag",
            "127.0.0.1:8080",
            "127.0.0.1",
            "8080",
            "/a/b",
            "?x=1&y=two",
            "#frag",
            "http://127.0.0.1:8080"
        ])
    );
    assert_eq!(v["after"], json!("http://user@127.0.0.1:8080/a/b?x=1&y=two&z=a+b#frag"));
    assert_eq!(v["path"], json!("http://user@127.0.0.1:8080/c?x=1&y=two&z=a+b#frag"));
    assert_eq!(v["invalid"], json!("TypeError"));
    assert_eq!(v["legacy"], json!(["127.0.0.1", "/p", "1"]));
    assert_eq!(v["qs"], json!("a=x%20y&b=1&b=2&c="));
    assert_eq!(v["qsParse"], json!({"a": ["1", "2"], "b": " c d"}));
    assert_eq!(v["path1"], json!("/a/c/d.txt"));
    assert_eq!(v["path2"], json!(["y", ".gz", "/x/y"]));
    assert_eq!(v["path3"], json!("/root/b"));
    assert_eq!(v["fmt"], json!(r#"cart has 3 items: {"a":1}"#));
    assert_eq!(v["inspect"], json!("{ a: [ 1, 'two' ], b: { c: null } }"));
    assert_eq!(v["promisified"], json!(42));
    assert_eq!(v["events"], json!([1, 10, 2]));
    assert_eq!(v["eol"], json!("\n"));
    assert_eq!(v["hostname"], json!("string"));
}

#[tokio::test]
async fn fs_reads_relative_to_the_script_and_process_env_is_there() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/ids.csv"), "1\n2\n3\n").unwrap();
    let v = run(
        dir.path(),
        r#"
  const fs = require('fs');
  v.ids = fs.readFileSync('data/ids.csv', 'utf8').trim().split('\n');
  v.viaDirname = fs.readFileSync(require('path').join(__dirname, 'data', 'ids.csv')).length;
  v.exists = [fs.existsSync('data/ids.csv'), fs.existsSync('nope.txt')];
  v.viaPromise = (await fs.promises.readFile('data/ids.csv', { encoding: 'utf8' })).length;
  try { fs.writeFileSync('out.txt', 'x'); } catch (e) { v.write = e.message; }
  v.path = typeof process.env.PATH;
  v.tick = await new Promise((r) => process.nextTick(() => r('ticked')));
  v.immediate = await new Promise((r) => setImmediate(r, 'now'));
  let n = 0;
  await new Promise((r) => { const t = setInterval(() => { n += 1; if (n === 3) { clearInterval(t); r(); } }, 1); });
  v.interval = n;
  const cancelled = setTimeout(() => { v.cancelled = false; }, 1);
  clearTimeout(cancelled);
  await require('timers/promises').setTimeout(5);
"#,
    )
    .await;
    assert_eq!(v["ids"], json!(["1", "2", "3"]));
    assert_eq!(v["viaDirname"], json!(6));
    assert_eq!(v["exists"], json!([true, false]));
    assert_eq!(v["viaPromise"], json!(6));
    assert!(v["write"].as_str().unwrap().contains("read-only"), "{v:?}");
    assert_eq!(v["path"], json!("string"));
    assert_eq!(v["tick"], json!("ticked"));
    assert_eq!(v["immediate"], json!("now"));
    assert_eq!(v["interval"], json!(3));
    assert!(!v.contains_key("cancelled"));
}

#[tokio::test]
async fn math_random_is_seeded_per_vu() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.js"),
        "exports.draw = (context, events, done) => { context.vars.r = [Math.random(), Math.random()]; done(); };\n",
    )
    .unwrap();
    let processor = Processor::load(&dir.path().join("p.js"), ProcessorOptions::default()).unwrap();
    let processor = &processor;
    let draw = |seed: u64| {
        let vu = processor.new_vu("u", None, seed).unwrap();
        async move {
            let mut first = HashMap::new();
            processor.call_step(&vu, "draw", &mut first).await.unwrap();
            let mut second = HashMap::new();
            processor.call_step(&vu, "draw", &mut second).await.unwrap();
            (first["r"].clone(), second["r"].clone())
        }
    };
    let (a1, a2) = draw(7).await;
    let (b1, b2) = draw(7).await;
    let (c1, _) = draw(8).await;
    assert_eq!((&a1, &a2), (&b1, &b2), "same seed, same draws");
    assert_ne!(a1, a2, "a VU's draws go on from where they stopped");
    assert_ne!(a1, c1, "another seed draws otherwise");
    let unit = a1.as_array().unwrap().iter().all(|x| (0.0..1.0).contains(&x.as_f64().unwrap()));
    assert!(unit, "{a1}");
}

#[tokio::test]
async fn promisified_timers_and_a_string_decoder_fed_in_pieces_work_as_in_node() {
    let dir = tempfile::tempdir().unwrap();
    let v = run(
        dir.path(),
        r#"
  const util = require('util');
  const { StringDecoder } = require('string_decoder');
  v.slept = await util.promisify(setTimeout)(1, 'woke');
  v.immediate = await util.promisify(setImmediate)('now');
  const utf8 = new StringDecoder('utf8');
  // "é€😀" cut inside each character.
  const bytes = Buffer.from('é€😀');
  v.utf8 = [utf8.write(bytes.subarray(0, 1)), utf8.write(bytes.subarray(1, 3)), utf8.write(bytes.subarray(3, 6)),
    utf8.write(bytes.subarray(6, 9)), utf8.end()];
  const cut = new StringDecoder('utf8');
  v.cutAtEnd = cut.write(Buffer.from([0x61, 0xe2, 0x82])) + '|' + cut.end().length;
  const b64 = new StringDecoder('base64');
  v.base64 = b64.write(Buffer.from('ab')) + '|' + b64.write(Buffer.from('cd')) + '|' + b64.end();
"#,
    )
    .await;
    assert_eq!(v["slept"], "woke");
    assert_eq!(v["immediate"], "now");
    assert_eq!(v["utf8"], json!(["", "é", "€", "😀", ""]));
    // An incomplete character at the end comes out (as one replacement character) from `end`.
    assert_eq!(v["cutAtEnd"], "a|1");
    assert_eq!(v["base64"], "|YWJj|ZA==");
}

fn hex(bytes: &impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

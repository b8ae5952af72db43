//! A distributed worker's processor reads only the files shipped with it: every way JavaScript
//! reaches a file (`fs` reads, `existsSync`/`statSync`/`readdirSync`, `require` of a path, of a
//! JSON file or of a package found in a `node_modules` above the folder, `import`) is refused
//! outside the shipped folder with an error saying the file was not shipped, while the same
//! processor loaded on one machine reads them all; and the environment variables that came with the
//! plan are laid over the process's own in `process.env`.

use std::collections::HashMap;
use std::path::Path;

use hornet_js::{Processor, ProcessorOptions};
use serde_json::{Value, json};

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

const PROBE: &str = r#"
const fs = require('fs');
const path = require('path');
exports.f = async function (context) {
  const tries = {};
  const attempt = (name, f) => { try { tries[name] = ['ok', f()]; } catch (e) { tries[name] = ['err', e.message]; } };
  const secret = path.join(__dirname, '..', 'secret' + '.txt');
  attempt('inside', () => fs.readFileSync('./data/in.txt', 'utf8'));
  attempt('module', () => require('./lib/m'));
  attempt('absolute', () => fs.readFileSync(secret, 'utf8'));
  attempt('dotdot', () => fs.readFileSync('../secret.txt', 'utf8'));
  attempt('exists', () => [fs.existsSync(secret), fs.existsSync('./data/in.txt')]);
  attempt('stat', () => fs.statSync(secret).size);
  attempt('readdir', () => fs.readdirSync('..').length > 0);
  attempt('requireAbsolute', () => require(secret.replace('.txt', '.js')));
  attempt('requireJson', () => require('../leak.json'));
  attempt('package', () => require('leak'));
  context.vars.tries = tries;
};
"#;

/// A folder `shipped` (the processor and the files that came with it) inside a folder holding
/// files that were not shipped.
fn layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "shipped/p.js", PROBE);
    write(root, "shipped/data/in.txt", "inside");
    write(root, "shipped/lib/m.js", "module.exports = 'module';");
    write(root, "shipped/e.mjs", "import s from '../leak.mjs';\nexport function f() { return s; }\n");
    write(root, "secret.txt", "secret-text");
    write(root, "secret.js", "module.exports = 'secret-module';");
    write(root, "leak.json", "\"secret-json\"");
    write(root, "leak.mjs", "export default 'secret-import';");
    write(root, "node_modules/leak/index.js", "module.exports = 'secret-package';");
    dir
}

async fn tries(processor: &Processor) -> Value {
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut vars = HashMap::new();
    processor.call_step(&vu, "f", &mut vars).await.unwrap_or_else(|e| panic!("{e}: {}", e.stack));
    vars.remove("tries").expect("tries")
}

#[tokio::test]
async fn a_shipped_processor_reads_its_files_and_nothing_else() {
    let dir = layout();
    let folder = dir.path().join("shipped");
    let shipped =
        Processor::load_shipped(&folder.join("p.js"), ProcessorOptions::default(), &folder, Vec::new())
            .unwrap_or_else(|e| panic!("{e}"));
    let got = tries(&shipped).await;
    assert_eq!(got["inside"], json!(["ok", "inside"]));
    assert_eq!(got["module"], json!(["ok", "module"]));
    assert_eq!(got["exists"], json!(["ok", [false, true]]), "an unshipped file is never said to exist");
    let secret = dir.path().join("secret.txt");
    for (name, shown) in [
        ("absolute", secret.display().to_string()),
        ("dotdot", "../secret.txt".to_string()),
        ("stat", secret.display().to_string()),
        ("readdir", "..".to_string()),
        ("requireAbsolute", dir.path().join("secret.js").display().to_string()),
        ("requireJson", "../leak.json".to_string()),
        ("package", "leak".to_string()),
    ] {
        let message = got[name][1].as_str().unwrap_or_default();
        assert_eq!(got[name][0], "err", "{name}: {got}");
        assert!(
            message.contains(&format!("'{shown}' was not shipped with the processor")),
            "{name}: {message}"
        );
        assert!(message.contains("read this file at the processor's top level"), "{name}: {message}");
    }
    assert!(!got.to_string().contains("secret-"), "no content leaked: {got}");
    // What the processor names for hornet to read (a `formData` `fromFile` a hook sets) is read
    // under the same rule.
    assert_eq!(shipped.read_file("data/in.txt").unwrap(), b"inside");
    let secret = secret.display().to_string();
    for shown in [secret.as_str(), "../secret.txt"] {
        let err = shipped.read_file(shown).unwrap_err();
        assert!(err.starts_with(&format!("'{shown}' was not shipped with the processor")), "{err}");
    }
    // An ES module's import out of the folder fails the load.
    let err =
        Processor::load_shipped(&folder.join("e.mjs"), ProcessorOptions::default(), &folder, Vec::new())
            .err()
            .expect("the import is refused");
    assert!(err.to_string().contains("'../leak.mjs' was not shipped with the processor"), "{err}");
}

#[tokio::test]
async fn the_same_processor_on_one_machine_reads_them_all() {
    let dir = layout();
    let folder = dir.path().join("shipped");
    let local = Processor::load(&folder.join("p.js"), ProcessorOptions::default()).unwrap();
    let got = tries(&local).await;
    assert_eq!(got["absolute"], json!(["ok", "secret-text"]));
    assert_eq!(got["dotdot"], json!(["ok", "secret-text"]));
    assert_eq!(got["exists"], json!(["ok", [true, true]]));
    assert_eq!(got["requireAbsolute"], json!(["ok", "secret-module"]));
    assert_eq!(got["requireJson"], json!(["ok", "secret-json"]));
    assert_eq!(got["package"], json!(["ok", "secret-package"]));
    assert!(Processor::load(&folder.join("e.mjs"), ProcessorOptions::default()).is_ok());
    assert_eq!(local.read_file("../secret.txt").unwrap(), b"secret-text");
}

#[tokio::test]
async fn variables_shipped_with_the_plan_lay_over_the_processs_environment() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "env.js",
        "exports.f = function (context, events, done) {\n  const env = process.env;\n  \
         context.vars.seen = [env.SHIPPED_ONLY, env.PATH, context.vars.$env.SHIPPED_ONLY, env.CARGO_MANIFEST_DIR];\n  \
         done();\n};\n",
    );
    let shipped = vec![
        ("SHIPPED_ONLY".to_string(), "from-plan".to_string()),
        ("PATH".to_string(), "/plan/bin".to_string()),
    ];
    let processor =
        Processor::load_shipped(&dir.path().join("env.js"), ProcessorOptions::default(), dir.path(), shipped)
            .unwrap_or_else(|e| panic!("{e}"));
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut vars = HashMap::new();
    processor.call_step(&vu, "f", &mut vars).await.unwrap_or_else(|e| panic!("{e}: {}", e.stack));
    // A shipped name reads its shipped value (PATH too, which this process also sets); the
    // process's own environment is still there for the rest.
    let own = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests");
    assert_eq!(vars["seen"], json!(["from-plan", "/plan/bin", "from-plan", own]));
    assert!(std::env::var("PATH").unwrap() != "/plan/bin", "the process's environment is unchanged");
}

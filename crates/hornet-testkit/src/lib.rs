//! Test support shared by hornet's crates, used only as a dev-dependency: the one policy for a test
//! that needs a tool from outside the workspace (Chromium, node with playwright-core, tmux, ...).
//!
//! * With the tool, the test runs.
//! * Without it, the test prints `skipped: <test>: <why>` on stderr (past the harness's capture, so
//!   it shows in `cargo test`'s output) and passes, so `cargo test --workspace` works on a fresh
//!   machine.
//! * With the environment variable `CI` set, a missing tool fails the test instead, so a CI job
//!   cannot skip it silently.
//!
//! [`kube`] reads the Kubernetes manifests of `deploy/kubernetes/` for the tests that check them;
//! [`chromium`] runs headless Chromium on the self-contained HTML pages the tests write.

pub mod chromium;
pub mod kube;

use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that turns a missing tool into a failure.
pub const CI: &str = "CI";

/// Applies the policy to what a test needs: `Some(tool)` when it was found; `None` after printing
/// why `test` is skipped when it was not; a panic naming `test` and the reason when `CI` is set.
pub fn require<T>(test: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(tool) => Some(tool),
        Err(why) if std::env::var_os(CI).is_some() => panic!("CI is set and {test} cannot run: {why}"),
        Err(why) => {
            // Straight to stderr, not `eprintln!`: the test harness captures the macros' output of
            // a passing test, and a skip must show in `cargo test`'s output.
            // One write, so the line is not interleaved with the harness's own output.
            let _ = std::io::stderr().write_all(format!("skipped: {test}: {why}\n").as_bytes());
            None
        }
    }
}

/// [`require`] for one program: the first of `fixed` (absolute paths) that exists, else the first
/// of `names` found on `PATH`. `install` says how to get it (`apt-get install -y tmux`).
pub fn require_tool(test: &str, fixed: &[&str], names: &[&str], install: &str) -> Option<PathBuf> {
    let found = find_program(fixed, names).ok_or_else(|| {
        let name = names.first().or(fixed.first()).copied().unwrap_or("a tool");
        format!("needs {name}, which is not installed ({install})")
    });
    require(test, found)
}

/// The first of `fixed` that exists, else the first of `names` in a directory of `PATH`.
pub fn find_program(fixed: &[&str], names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = fixed.iter().map(Path::new).find(|p| p.is_file()) {
        return Some(p.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| names.iter().map(|n| dir.join(n)).find(|p| p.is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_by_path_or_name() {
        assert_eq!(find_program(&["/definitely/not/here"], &["sh"]).map(|p| p.ends_with("sh")), Some(true));
        assert_eq!(find_program(&[], &["no-such-program-for-hornet"]), None);
    }

    #[test]
    fn a_found_tool_is_handed_over() {
        assert_eq!(require("t", Ok::<_, String>(7)), Some(7));
    }

    #[test]
    fn a_missing_tool_skips_or_fails_under_ci() {
        // Prints `skipped: hornet_testkit_self_test: ...` when `CI` is not set: that line is this
        // test's, not a real skip.
        let test = "hornet_testkit_self_test";
        let missing = || Err::<(), _>("needs no-such-tool, which is not installed".to_owned());
        if std::env::var_os(CI).is_some() {
            let caught = std::panic::catch_unwind(|| require(test, missing()));
            let message = caught.expect_err("CI is set: a missing tool fails");
            let text = message.downcast_ref::<String>().cloned().unwrap_or_default();
            assert_eq!(
                text,
                "CI is set and hornet_testkit_self_test cannot run: needs no-such-tool, which is not installed"
            );
        } else {
            assert_eq!(require(test, missing()), None);
        }
    }
}

//! `hornet completions SHELL` and `hornet man` cover the whole CLI: every command and option that
//! `hornet --help` shows (read from the help, so commands added later are checked too) is in the
//! bash, zsh and fish scripts and the man pages, and bash completes them for real.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use common::hornet;

/// What `hornet ARGS` prints on stdout; it must succeed.
fn stdout_of(args: &[&str]) -> String {
    let out = hornet().args(args).output().expect("run hornet");
    assert!(out.status.success(), "hornet {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// The entries of a section of `--help` (`Commands:`, `Options:`): its indented lines' first words.
fn help_section(help: &str, heading: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != heading)
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .map(|l| l.trim_start().to_owned())
        .collect()
}

/// Every command as its path of names (`["run"]`, `["import", "har"]`...), from the help, without
/// clap's `help`.
fn commands() -> Vec<Vec<String>> {
    fn walk(path: Vec<String>, found: &mut Vec<Vec<String>>) {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = stdout_of(&args);
        for line in help_section(&help, "Commands:") {
            let name = line.split_whitespace().next().unwrap_or_default().to_owned();
            if name != "help" {
                let mut sub = path.clone();
                sub.push(name);
                found.push(sub.clone());
                walk(sub, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Vec::new(), &mut found);
    found
}

/// The long options (`--output`...) a command's help lists: the words of each entry's first column
/// (`-o, --output <FILE>`), before the description.
fn long_options(path: &[String]) -> BTreeSet<String> {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let help = stdout_of(&args);
    help_section(&help, "Options:")
        .iter()
        .flat_map(|line| {
            let spec = line.split("  ").next().unwrap_or_default();
            spec.split([' ', ',']).filter(|w| w.starts_with("--")).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_help_lists_the_commands_this_test_walks() {
    let all = commands();
    for expected in ["run", "controller", "worker", "completions", "man"] {
        assert!(all.iter().any(|c| c == &[expected]), "{expected} missing from {all:?}");
    }
    assert!(long_options(&["controller".into()]).contains("--workers"));
}

#[test]
fn bash_completes_every_command_and_its_options() {
    let Some(bash) = hornet_testkit::require_tool(
        "bash_completes_every_command_and_its_options",
        &["/bin/bash", "/usr/bin/bash"],
        &["bash"],
        "apt-get install -y bash",
    ) else {
        return;
    };
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hornet.bash");
    std::fs::write(&path, &script).expect("write script");
    let syntax = Command::new(&bash).arg("-n").arg(&path).output().expect("bash -n");
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));
    // Completing the word after `hornet ...`, as bash does on Tab: COMP_WORDS/COMP_CWORD set and the
    // completion function called with (command, current word, previous word).
    let complete = |words: &[&str]| -> BTreeSet<String> {
        let current = words.last().copied().unwrap_or_default();
        let previous = words.len().checked_sub(2).map(|i| words[i]).unwrap_or("hornet");
        let program = "source \"$1\"; COMP_WORDS=(\"${@:4}\"); COMP_CWORD=$(( $# - 4 )); _hornet hornet \"$2\" \"$3\"; printf '%s\\n' \"${COMPREPLY[@]}\"";
        let out = Command::new(&bash)
            .arg("-c")
            .arg(program)
            .arg("bash")
            .arg(&path)
            .args([current, previous])
            .args(words)
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        assert!(out.status.success(), "completing {words:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
    };
    let all = commands();
    let top = complete(&["hornet", ""]);
    for path in all.iter().filter(|p| p.len() == 1) {
        assert!(top.contains(&path[0]), "bash does not complete `hornet {}`: {top:?}", path[0]);
    }
    for path in &all {
        let mut words: Vec<&str> = std::iter::once("hornet").chain(path.iter().map(String::as_str)).collect();
        words.push("--");
        let offered = complete(&words);
        for option in long_options(path) {
            assert!(
                offered.contains(&option),
                "bash does not complete `hornet {} {option}`: {offered:?}",
                path.join(" ")
            );
        }
    }
}

#[test]
fn zsh_and_fish_scripts_name_every_command_and_option() {
    let all = commands();
    let zsh = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef hornet"), "{}", &zsh[..zsh.len().min(200)]);
    let fish = stdout_of(&["completions", "fish"]);
    for path in &all {
        let name = path.last().expect("a name");
        assert!(zsh.contains(&format!("'{name}:")), "zsh script lacks the command {name}");
        assert!(fish.contains(&format!("-a \"{name}\"")), "fish script lacks the command {name}");
        for option in long_options(path) {
            let bare = option.trim_start_matches('-');
            assert!(zsh.contains(&format!("--{bare}")), "zsh script lacks {option} of {name}");
            assert!(fish.contains(&format!("-l {bare}")), "fish script lacks {option} of {name}");
        }
    }
    let bad = hornet().args(["completions", "tcsh"]).output().expect("run hornet");
    assert_eq!(bad.status.code(), Some(2), "an unknown shell is a usage error");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("possible values: bash"));
}

#[test]
fn the_man_pages_cover_every_command_and_option() {
    let all = commands();
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH hornet 1"), "not a man page: {}", &page[..page.len().min(200)]);
    for path in all.iter().filter(|p| p.len() == 1) {
        assert!(page.contains(&format!("hornet\\-{}(1)", path[0])), "hornet(1) does not list {}", path[0]);
    }
    assert!(!page.contains("hornet\\-help(1)"), "hornet(1) lists a help page that --dir does not write");
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = dir.path().join("man1");
    let out = hornet().args(["man", "--dir"]).arg(&pages).output().expect("run hornet man --dir");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(pages.join("hornet.1")).expect("hornet.1"), page);
    for path in &all {
        let file = pages.join(format!("hornet-{}.1", path.join("-")));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for option in long_options(path) {
            let roff = option.replace('-', "\\-");
            assert!(text.contains(&roff), "{} lacks {option}", file.display());
        }
    }
    let written = std::fs::read_dir(&pages).expect("read pages").count();
    assert_eq!(written, all.len() + 1, "one page per command plus hornet.1");
}

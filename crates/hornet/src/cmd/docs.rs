//! `hornet completions SHELL` and `hornet man`: shell completion scripts and man pages generated from
//! the CLI definition in `cli.rs`, so every command and option added there shows up in them.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use super::exit;
use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// The name the completion scripts and man pages call the program by.
const BIN_NAME: &str = "hornet";

pub fn completions(args: CompletionsArgs) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN_NAME, &mut script);
    print_bytes(&script)
}

pub fn man(args: ManArgs) -> i32 {
    match args.dir {
        Some(dir) => match write_pages(&dir) {
            Ok(()) => exit::OK,
            Err(e) => {
                note!("error: could not write the man pages into {}: {e}", dir.display());
                exit::FAILED
            }
        },
        None => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command().disable_help_subcommand(true)).render(&mut page) {
                Ok(()) => print_bytes(&page),
                Err(e) => {
                    note!("error: could not render the man page: {e}");
                    exit::FAILED
                }
            }
        }
    }
}

/// `hornet.1` and a page per visible command, nested ones included (`hornet-run.1`, ...).
fn write_pages(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)
}

/// Writes `bytes` to stdout; a reader that went away (`hornet man | head`) is not an error.
fn print_bytes(bytes: &[u8]) -> i32 {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            note!("error: could not write to stdout: {e}");
            exit::FAILED
        }
    }
}

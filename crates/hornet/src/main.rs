//! The `hornet` command: parses the command line and hands off to a command.

mod cli;
mod cmd;
mod dashboard;
mod keys;
mod live;
mod signals;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Run(a) => cmd::run::run(a),
        cli::Command::Ui(a) => cmd::ui::ui(a),
        cli::Command::Validate(a) => cmd::run::validate(a),
        cli::Command::Quick(a) => cmd::quick::quick(a),
        cli::Command::Demo(a) => cmd::demo::demo(a),
        cli::Command::Target(a) => cmd::target::target(a),
        cli::Command::Report(a) => cmd::report::report(a),
        cli::Command::Compare(a) => cmd::report::compare(a),
    };
    std::process::exit(code);
}

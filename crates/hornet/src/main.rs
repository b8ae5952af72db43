//! The `hornet` command: parses the command line and hands off to a command.

mod cli;
mod cmd;
mod files;
mod keys;
mod live;
#[cfg(test)]
mod manifests;
mod signals;

use clap::Parser;

/// jemalloc instead of glibc's allocator: over a 10-minute soak at 2,000 req/s the heap in use stays
/// flat (heaptrack), yet glibc's arenas kept the freed pages of the per-second churn and RSS grew
/// 14% after warm-up; with jemalloc it stayed flat (-5%), at no cost in CPU per request
/// (docs/benchmarks.md, workloads 1, 4 and 6).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = cli::Cli::parse();
    files::raise_limit();
    if let Some(path) = cli.command.dotenv() {
        // Before any thread starts: the variables go into this process's environment.
        if let Err(why) = cmd::env_file::load(path) {
            eprintln!("error: {why}");
            std::process::exit(cmd::exit::USAGE);
        }
    }
    let code = match cli.command {
        cli::Command::Run(a) => cmd::run::run(a),
        cli::Command::Capacity(a) => cmd::capacity::capacity(a),
        cli::Command::Ui(a) => cmd::ui::ui(a),
        cli::Command::Validate(a) => cmd::run::validate(a),
        cli::Command::Quick(a) => cmd::quick::quick(a),
        cli::Command::Demo(a) => cmd::demo::demo(a),
        cli::Command::Target(a) => cmd::target::target(a),
        cli::Command::Report(a) => cmd::report::report(a),
        cli::Command::Compare(a) => cmd::report::compare(a),
        cli::Command::Controller(a) => cmd::cluster::controller(a),
        cli::Command::Worker(a) => cmd::cluster::worker(a),
        cli::Command::Completions(a) => cmd::docs::completions(a),
        cli::Command::Man(a) => cmd::docs::man(a),
        cli::Command::Import(a) => match a.format {
            cli::ImportFormat::Har(a) => cmd::import::har(a),
        },
    };
    std::process::exit(code);
}

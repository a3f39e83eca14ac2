//! The `barge` command: parses flags, builds validated settings, runs a command, and maps the
//! outcome to an exit code. All terminal output goes through [`output`].

mod cli;
mod commands;
mod output;
mod scaffold;

use clap::Parser;
use std::process::ExitCode;

/// Exit codes, documented in the README.
pub(crate) mod exit {
    pub const SUCCESS: u8 = 0;
    /// Configuration, credentials or command-line error.
    pub const CONFIG: u8 = 2;
    /// A source or target server could not be reached.
    pub const CONNECTION: u8 = 3;
    /// The migration started and failed.
    pub const FAILED: u8 = 4;
    /// `--resume` found no run it could continue (nothing was started or dropped).
    pub const NOTHING_TO_RESUME: u8 = 5;
    /// Interrupted by Ctrl-C / SIGTERM.
    pub const INTERRUPTED: u8 = 130;
}

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::CONFIG
            } else {
                exit::SUCCESS
            };
            // clap renders help, version and usage errors itself.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(commands::run(args))
}

//! `xl`: the xueliang command line. Wiring only: the work happens in the library crates.

mod args;
mod commands;
mod logging;
mod output;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    logging::init(args.verbose);
    match commands::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, no backtrace: the error chain joined.
            let mut message = e.to_string();
            for cause in e.chain().skip(1) {
                let cause = cause.to_string();
                if !message.contains(&cause) {
                    message.push_str(": ");
                    message.push_str(&cause);
                }
            }
            let _ = writeln!(
                std::io::stderr(),
                "xl: error: {}",
                message.replace('\n', " ")
            );
            ExitCode::FAILURE
        }
    }
}

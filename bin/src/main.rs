//! `arcly`: the command-line front of the origin.
//!
//! This crate only turns flags and the config file into settings and hands
//! them to `arcly-shard`; it holds no streaming logic of its own.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod config;

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{Cli, Command};

/// Exit code for a bad flag or config value, as clap uses for usage errors.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap adds usage and tips over several lines; operators get one.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            eprintln!("arcly: {}", first.trim_start_matches("error: "));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(&args),
        Command::Topology(args) => commands::topology::run(&args),
        Command::CheckConfig { file } => commands::check_config::run(&file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("arcly: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

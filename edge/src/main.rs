//! `rollcall-edge`: the door unit's daemon and its tools. Parses the command line, installs
//! logging and hands over to the library.

use clap::Parser;
use rollcall_edge::cli::Cli;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    rollcall_edge::logging::init(cli.verbose);
    match rollcall_edge::commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

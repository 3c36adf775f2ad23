//! `rollcall-edge`: the door unit's daemon and its tools. Installs the panic policy, parses the
//! command line, installs logging and hands over to the library.

use clap::Parser;
use rollcall_edge::cli::Cli;

fn main() -> std::process::ExitCode {
    rollcall_runtime::panic::install();
    let cli = Cli::parse();
    rollcall_runtime::logging::init(rollcall_runtime::logging::level(cli.verbose));
    match rollcall_edge::commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

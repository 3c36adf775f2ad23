//! One module per subcommand; [`run`] dispatches.

mod bench;
mod calibrate;
mod daemon;
mod enrol;
mod faces;
mod models;
mod pipeline;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the command the user asked for. `Err` is for failures worth a message; a command that
/// reports per-item failures itself returns a failing exit code instead.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Some(command) = cli.command else {
        if cli.print_default_config {
            return daemon::print_default_config();
        }
        anyhow::bail!("no command given; see `rollcall-edge --help`");
    };
    match command {
        Command::Run(args) => daemon::run(args, cli.models_dir.as_deref()),
        Command::CheckConfig(args) => daemon::check_config(args),
        Command::Trigger(args) => daemon::trigger(args),
        Command::Models(cmd) => models::run(cmd, cli.models_dir.as_deref()),
        Command::Faces(args) => faces::run(args, cli.models_dir.as_deref()),
        Command::Calibrate(args) => calibrate::run(args, cli.models_dir.as_deref()),
        Command::Bench(args) => bench::run(args, cli.models_dir.as_deref()),
        Command::Enrol(args) => enrol::run(args),
        Command::FacesKeyLost(args) => daemon::faces_key_lost(args),
    }
}

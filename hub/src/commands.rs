//! One module per subcommand of `rollcall-hub`; [`run`] dispatches. Commands report with
//! `anyhow`; what they do lives in the library's domain modules (`setup`, `demo`, `server`).

mod backup;
mod demo;
mod device;
mod enrol;
mod faces_key;
mod password;
mod roster;
mod serve;
mod target;
mod user;

use std::path::Path;

use anyhow::bail;

use crate::cli::{Cli, Command};
use crate::config::{Config, DEFAULT_CONFIG};
use crate::setup;

use password::read_password;
use target::{config, sqlite_data_dir};

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.print_default_config {
        print!("{DEFAULT_CONFIG}");
        return Ok(());
    }
    let Some(command) = cli.command else {
        bail!("nothing to do: see `rollcall-hub --help`");
    };
    match command {
        Command::Init {
            target,
            admin_user,
            admin_password_file,
        } => init(
            &config(target)?,
            &admin_user,
            admin_password_file.as_deref(),
        ),
        Command::Serve { config } => serve::serve(&config),
        Command::Migrate { config } => migrate(&Config::load(&config)?),
        Command::Schools { config } => schools(&Config::load(&config)?),
        Command::CheckConfig { file } => serve::check_config(&file),
        Command::Backup { to, target } => backup::backup(&sqlite_data_dir(target)?, &to),
        Command::CheckBackup { file } => backup::check(&file),
        Command::Export { to, config, school } => {
            let config = target::one_school(&Config::load(&config)?, school.as_deref())?;
            backup::export(&config, &to)
        }
        Command::Restore { file, target } => backup::restore(&file, &sqlite_data_dir(target)?),
        Command::Device(cmd) => device::run(cmd),
        Command::Roster(cmd) => roster::run(cmd),
        Command::Enrol {
            folder,
            mapping,
            report,
            target,
        } => enrol::run(&folder, mapping.as_deref(), report.as_deref(), target),
        Command::User(cmd) => user::run(cmd),
        Command::FacesKey(cmd) => faces_key::run(cmd),
        Command::Demo {
            dir,
            port,
            models_dir,
        } => demo::run(crate::demo::DemoOptions {
            dir: dir.unwrap_or_else(crate::demo::default_dir),
            port,
            models_dir,
        }),
    }
}

/// `init`: the data directory, database, token key and first admin.
fn init(config: &Config, admin_user: &str, password_file: Option<&Path>) -> anyhow::Result<()> {
    let password = read_password(password_file, "admin password: ")?;
    let user = setup::init_store(config, admin_user, &password)?;
    println!(
        "initialised {} with admin {}",
        config.data_dir.display(),
        user.username
    );
    println!(
        "faces are encrypted under {}: keep a copy of it apart from the backups",
        config.face_key_path().display()
    );
    Ok(())
}

/// `migrate`: opening the store migrates it; say what it is now.
/// The district's schools, one line each.
fn schools(config: &Config) -> anyhow::Result<()> {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let since = rollcall_shared::UnixMillis::now().0 - DAY_MS;
    let (schools, odd) = setup::district(config, since)?;
    println!(
        "{:<24} {:>7} {:>9} {:>17} {:>12} {:>8}",
        "school (schema)", "version", "students", "door units (on)", "records 24 h", "pending"
    );
    for s in &schools {
        println!(
            "{:<24} {:>7} {:>9} {:>17} {:>12} {:>8}",
            s.schema.as_str(),
            s.version,
            s.students,
            format!("{} ({})", s.devices, s.online),
            s.records,
            s.pending
        );
    }
    for aside in odd {
        eprintln!("schema {:?} left out: {}", aside.name, aside.why);
    }
    Ok(())
}

/// Brings every school the configuration serves up to date.
fn migrate(config: &Config) -> anyhow::Result<()> {
    for school in config.schools()? {
        let config = &school.config;
        setup::open_store(config)?;
        let place = match &config.store.url {
            Some(url) if !config.store.schema.is_public() => {
                format!(
                    "School {} in PostgreSQL database {url}",
                    config.store.schema
                )
            }
            Some(url) => format!("PostgreSQL database {url}"),
            None => format!("SQLite database {}", config.database_path().display()),
        };
        println!(
            "{place} is at schema version {}",
            rollcall_store::schema_version()
        );
    }
    Ok(())
}

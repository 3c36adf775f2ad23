//! One module per subcommand of `rollcall-hub`; [`run`] dispatches. Commands report with
//! `anyhow`; what they do lives in the library's domain modules (`setup`, `demo`, `server`).

mod backup;
mod demo;
mod device;
mod faces_key;
mod roster;
mod serve;
mod user;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::{Cli, Command, Target};
use crate::config::{Config, DEFAULT_CONFIG};
use crate::setup;

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
        Command::CheckConfig { file } => serve::check_config(&file),
        Command::Backup { to, target } => backup::backup(&sqlite_data_dir(target)?, &to),
        Command::CheckBackup { file } => backup::check(&file),
        Command::Export { to, config } => backup::export(&Config::load(&config)?, &to),
        Command::Restore { file, target } => backup::restore(&file, &sqlite_data_dir(target)?),
        Command::Device(cmd) => device::run(cmd),
        Command::Roster(cmd) => roster::run(cmd),
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
fn migrate(config: &Config) -> anyhow::Result<()> {
    setup::open_store(config)?;
    let place = match &config.store.url {
        Some(url) => format!("PostgreSQL database {url}"),
        None => format!("SQLite database {}", config.database_path().display()),
    };
    println!(
        "{place} is at schema version {}",
        crate::store::schema_version()
    );
    Ok(())
}

/// The data directory of a hub whose database is SQLite there: `backup` and `restore` copy
/// that file. A PostgreSQL database is backed up by PostgreSQL's own tools.
fn sqlite_data_dir(target: Target) -> anyhow::Result<PathBuf> {
    let config = config(target)?;
    if config.store.url.is_some() {
        bail!(
            "this hub keeps its data in PostgreSQL ([store] url): back it up with pg_dump \
             (or the database's continuous archiving) and restore with pg_restore; see \
             docs/DISTRICT.md"
        );
    }
    Ok(config.data_dir)
}

/// The hub a command works on: its configuration file, or the defaults with the data
/// directory given.
fn config(target: Target) -> anyhow::Result<Config> {
    match (target.data_dir, target.config) {
        (Some(data_dir), _) => Ok(Config {
            data_dir,
            ..Config::default()
        }),
        (None, Some(config)) => Ok(Config::load(&config)?),
        (None, None) => bail!("say which hub: --data-dir DIR or --config FILE"),
    }
}

/// The database of the hub a command works on (SQLite in its data directory, or the
/// PostgreSQL database its configuration names), and where its data directory is.
fn store(target: Target) -> anyhow::Result<(crate::store::Db, PathBuf)> {
    let config = config(target)?;
    Ok((setup::open_store(&config)?, config.data_dir))
}

/// A password from `file` (without its line ending), else asked twice on the terminal.
fn read_password(file: Option<&Path>, prompt: &str) -> anyhow::Result<String> {
    if let Some(file) = file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return Ok(text.trim_end_matches(['\n', '\r']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password on: pass a password file");
    }
    let first = rpassword::prompt_password(prompt)?;
    let again = rpassword::prompt_password("again: ")?;
    if first != again {
        bail!("the passwords differ");
    }
    Ok(first)
}

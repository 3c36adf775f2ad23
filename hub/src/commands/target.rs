//! The hub a command works on, as `--data-dir` or `--config` names it: its configuration,
//! its database, and the data directory that `backup` and `restore` copy.

use std::path::PathBuf;

use anyhow::bail;

use crate::cli::Target;
use crate::config::Config;
use crate::setup;

/// The data directory of a hub whose database is SQLite there: `backup` and `restore` copy
/// that file. A PostgreSQL database is backed up by PostgreSQL's own tools.
pub(super) fn sqlite_data_dir(target: Target) -> anyhow::Result<PathBuf> {
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

/// The hub a command works on: its configuration file (the school `--school` names, when the
/// file serves several), or the defaults with the data directory given.
pub(super) fn config(target: Target) -> anyhow::Result<Config> {
    match (target.data_dir, target.config) {
        (Some(data_dir), _) => Ok(Config {
            data_dir,
            ..Config::default()
        }),
        (None, Some(config)) => Ok(Config::load(&config)?.one_school(target.school.as_deref())?),
        (None, None) => bail!("say which hub: --data-dir DIR or --config FILE"),
    }
}

/// The database of the hub a command works on (SQLite in its data directory, or the
/// PostgreSQL database its configuration names), and where its data directory is.
pub(super) fn store(target: Target) -> anyhow::Result<(crate::store::Db, PathBuf)> {
    let config = config(target)?;
    Ok((setup::open_store(&config)?, config.data_dir))
}

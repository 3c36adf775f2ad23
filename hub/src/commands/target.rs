//! The hub a command works on, as `--data-dir` or `--config` names it: its configuration,
//! its database, and the data directory that `backup` and `restore` copy.

use std::path::PathBuf;

use anyhow::bail;

use crate::cli::Target;
use crate::config::{Config, SchoolConfig};
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
        (None, Some(config)) => one_school(&Config::load(&config)?, target.school.as_deref()),
        (None, None) => bail!("say which hub: --data-dir DIR or --config FILE"),
    }
}

/// The school of `file` a command works on: the one `site` names among the file's
/// `[[schools]]`, else among the schools a district admin added (`POST /district/schools`);
/// without `site`, the file's only school.
pub(super) fn one_school(file: &Config, site: Option<&str>) -> anyhow::Result<Config> {
    let not_listed = match file.one_school(site) {
        Ok(school) => return Ok(school),
        Err(e) => e,
    };
    let Some(site) = site.filter(|_| !file.schools.is_empty()) else {
        return Err(not_listed.into());
    };
    let added = setup::added_schools(file)?;
    let Some(school) = added.iter().find(|s| s.site == site) else {
        return Err(not_listed.into());
    };
    let school = SchoolConfig::try_from(school)
        .map_err(|why| anyhow::anyhow!("the district's added school {site:?}: {why}"))?;
    Ok(file.school_of(&school)?.config)
}

/// The database of the hub a command works on (SQLite in its data directory, or the
/// PostgreSQL database its configuration names), and where its data directory is.
pub(super) fn store(target: Target) -> anyhow::Result<(rollcall_store::Db, PathBuf)> {
    let config = config(target)?;
    Ok((setup::open_store(&config)?, config.data_dir))
}

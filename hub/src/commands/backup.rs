//! `backup`, `check-backup` and `restore` (the rules are in [`crate::backup`]).

use std::path::Path;

use anyhow::Context;
use rollcall_runtime::{Clock, SystemClock};

use crate::config::Config;
use rollcall_store::DATABASE_FILE;

/// `backup --to FILE`: a consistent copy of the database, while the hub serves.
pub fn backup(data_dir: &Path, to: &Path) -> anyhow::Result<()> {
    let database = data_dir.join(DATABASE_FILE);
    if !database.exists() {
        anyhow::bail!(
            "no hub database in {} (run `rollcall-hub init` first)",
            data_dir.display()
        );
    }
    let summary = crate::backup::take(&database, to).context("backup not written")?;
    println!("backup written and checked: {summary}");
    Ok(())
}

/// `export --to FILE`: the school's data as CSV and JSON in a zip, while the hub serves.
pub fn export(config: &Config, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let db = crate::setup::open_store(config)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .with_context(|| {
            format!(
                "cannot create {} (an export never overwrites)",
                to.display()
            )
        })?;
    let about = rollcall_school::export::About {
        site: config.site.as_str(),
        timezone: config.timezone.name(),
        exported_at: SystemClock.now().0,
        exported_by: "rollcall-hub export (command line)",
        schema_version: rollcall_store::schema_version(),
    };
    let written = db.read_blocking(|sql| {
        rollcall_school::export::write(sql, &about, std::io::BufWriter::new(file))
    });
    let summary = match written {
        Ok(summary) => summary,
        Err(e) => {
            let _ = std::fs::remove_file(to);
            return Err(e).context("export not written");
        }
    };
    println!("exported to {}: {summary}", to.display());
    Ok(())
}

/// `check-backup FILE`.
pub fn check(file: &Path) -> anyhow::Result<()> {
    let summary = crate::backup::check(file)?;
    println!("backup is sound: {summary}");
    Ok(())
}

/// `restore FILE`: only while no hub serves the data directory.
pub fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let restored = crate::backup::restore(file, data_dir, SystemClock.now())
        .context("nothing was restored")?;
    println!("restored {}", restored.summary);
    println!("into {}", data_dir.join(DATABASE_FILE).display());
    if let Some(kept) = &restored.kept {
        println!("the database it replaced is kept as {}", kept.display());
    }
    if restored.new_key {
        println!("a new token signing key was made: everyone signs in again");
    }
    println!("start the hub again (systemctl start rollcall-hub)");
    Ok(())
}

//! `roster import`: the school information system's roster, from the command line (the rules
//! are in [`crate::roster_import`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use rollcall_runtime::{Clock, SystemClock};

use crate::cli::RosterCommand;
use crate::roster_import::{self, Action, Roster, RowError, parse};
use crate::store::StoreError;

use super::store;

const ACTOR: &str = "rollcall-hub roster import (command line)";

pub fn run(cmd: RosterCommand) -> anyhow::Result<()> {
    let RosterCommand::Import {
        path,
        format,
        dry_run,
        all,
        target,
    } = cmd;
    let roster = read(&path, format.as_deref())?;
    let db = store(target)?.0;
    let now = SystemClock.now();
    let plan = db.write_blocking(|tx| {
        let plan = roster_import::import(tx, &roster, dry_run, ACTOR, now)?;
        Ok::<_, StoreError>(plan)
    })?;
    for step in plan
        .steps
        .iter()
        .filter(|s| all || s.action != Action::Unchanged)
    {
        let action = serde_json::to_value(step.action)?;
        println!(
            "{:<10} {:<10} {:<24} {:<28} {}",
            action.as_str().unwrap_or("?"),
            step.kind,
            step.source_id,
            step.name,
            step.reason
        );
    }
    for (kind, counts) in &plan.counts {
        let counts: Vec<String> = counts.iter().map(|(a, n)| format!("{n} {a}")).collect();
        println!("{kind}: {}", counts.join(", "));
    }
    match (dry_run, plan.changes()) {
        (true, _) => println!("dry run: nothing was changed"),
        (false, true) => {
            println!("imported (door units get their new galleries once the hub runs)")
        }
        (false, false) => println!("nothing to change: the hub already holds this roster"),
    }
    Ok(())
}

/// The roster at `path`: a CSV file, or OneRoster files in a folder or a zip.
fn read(path: &Path, format: Option<&str>) -> anyhow::Result<Roster> {
    let zip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let format = format.unwrap_or(if path.is_dir() || zip {
        "oneroster"
    } else {
        "csv"
    });
    let parsed = match format {
        "csv" => parse::plain(
            &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        "oneroster" if path.is_dir() => {
            let mut files = BTreeMap::new();
            for name in parse::ONEROSTER_FILES {
                if let Ok(bytes) = std::fs::read(path.join(name)) {
                    files.insert(name.to_owned(), bytes);
                }
            }
            parse::oneroster(&files)
        }
        "oneroster" => parse::oneroster_zip(
            &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        other => bail!("--format {other:?}: csv or oneroster"),
    };
    parsed.map_err(|rows| report(&rows))
}

fn report(rows: &[RowError]) -> anyhow::Error {
    for r in rows {
        eprintln!("{}:{}: {}", r.file, r.line, r.message);
    }
    anyhow::anyhow!(
        "{} rows of the roster cannot be used; nothing was imported",
        rows.len()
    )
}

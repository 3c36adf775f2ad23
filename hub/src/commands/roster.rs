//! `roster import`: the school information system's roster, from the command line (the rules
//! are in [`rollcall_school::roster_import`]).

use std::path::Path;

use anyhow::{Context, bail};
use rollcall_runtime::{Clock, SystemClock};

use crate::cli::RosterCommand;
use rollcall_school::roster_import::{
    self, Action, ImportError, Options, Plan, Roster, RowError, plain,
};

use super::target::config;

const ACTOR: &str = "rollcall-hub roster import (command line)";

pub fn run(cmd: RosterCommand) -> anyhow::Result<()> {
    let RosterCommand::Import {
        path,
        format,
        dry_run,
        confirm_leavers,
        terms,
        all,
        target,
    } = cmd;
    let roster = read(&path, format.as_deref())?;
    let config = config(target)?;
    let db = crate::setup::open_store(&config)?;
    let now = SystemClock.now();
    let options = Options {
        dry_run,
        confirm_leavers,
        add_terms: terms,
        max_leavers_percent: config.roster.max_leavers_percent,
        today: config.rules().local_day(now),
    };
    let done = db.write_blocking(|tx| roster_import::import(tx, &roster, options, ACTOR, now));
    let plan = match done {
        Ok(plan) => plan,
        Err(ImportError::Rows(rows)) => return Err(report(&rows)),
        Err(ImportError::Leavers(gate)) => bail!(
            "{}: run it again with --confirm-leavers {}",
            gate.refusal(),
            gate.leavers
        ),
        Err(ImportError::Store(e)) => return Err(e.into()),
    };
    print(&plan, all)
}

fn print(plan: &Plan, all: bool) -> anyhow::Result<()> {
    let coverage: Vec<String> = (plan.coverage.iter())
        .map(|(part, c)| format!("{part} {c}"))
        .collect();
    println!("{} ({})", plan.format, coverage.join(", "));
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
    let gate = &plan.gate;
    if plan.dry_run && !gate.open() {
        println!(
            "{} leavers of {} students, over the {} % limit: the import needs --confirm-leavers {}",
            gate.leavers, gate.students, gate.max_percent, gate.leavers
        );
    }
    match (plan.dry_run, plan.changes()) {
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
    let file = || std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let parsed = match format {
        "csv" => plain::read(&file()?),
        "oneroster" if path.is_dir() => {
            roster_import::read_dir(path).with_context(|| format!("reading {}", path.display()))?
        }
        "oneroster" => roster_import::read_zip(&file()?),
        other => bail!("--format {other:?}: csv or oneroster"),
    };
    parsed.map_err(|rows| report(&rows))
}

fn report(rows: &[RowError]) -> anyhow::Error {
    for r in rows {
        eprintln!("{}:{}: {}", r.file, r.line, r.message);
    }
    anyhow::anyhow!(rollcall_school::table::nothing_imported(rows, "roster"))
}

//! `faces-key status | rotate | reseal | lost` (the procedures are in [`crate::face_keys`]).

use anyhow::bail;

use super::target::config;
use crate::cli::FacesKeyCommand;
use crate::face_keys;

pub fn run(cmd: FacesKeyCommand) -> anyhow::Result<()> {
    match cmd {
        FacesKeyCommand::Status { target } => status(&config(target)?),
        FacesKeyCommand::Rotate { no_reseal, target } => {
            let rotated = face_keys::rotate(&config(target)?, !no_reseal)?;
            println!(
                "added face key {}: new faces are sealed with it",
                rotated.added
            );
            match rotated.resealed {
                Some(resealed) => print_resealed(&resealed),
                None => println!(
                    "copy the key file to every other hub now, then run `rollcall-hub \
                     faces-key reseal` on one of them"
                ),
            }
            Ok(())
        }
        FacesKeyCommand::Reseal { target } => {
            print_resealed(&face_keys::reseal(&config(target)?)?);
            Ok(())
        }
        FacesKeyCommand::Lost { yes, target } => lost(&config(target)?, yes),
    }
}

fn status(config: &crate::config::Config) -> anyhow::Result<()> {
    let status = face_keys::status(config)?;
    println!("key file {}", status.file.display());
    for (i, id) in status.held.iter().enumerate() {
        let seals = i + 1 == status.held.len();
        println!(
            "  key {id}{}",
            if seals { " (seals new faces)" } else { "" }
        );
    }
    for id in status.in_use.iter().filter(|id| !status.held.contains(id)) {
        println!("  key {id} MISSING: the database's faces need it (see `faces-key lost`)");
    }
    println!("faces in the database:");
    if status.census.is_empty() {
        println!("  none");
    }
    for (column, census) in &status.census {
        let mut parts: Vec<String> = census
            .sealed
            .iter()
            .map(|(id, n)| format!("{n} sealed with {id}"))
            .collect();
        if census.plain > 0 {
            parts.push(format!("{} not yet sealed", census.plain));
        }
        println!("  {column}: {}", parts.join(", "));
    }
    Ok(())
}

fn print_resealed(resealed: &face_keys::Resealed) {
    println!(
        "sealed {} faces again under the newest key",
        resealed.pass.changed
    );
    if let Some(kept) = &resealed.kept_in {
        let ids: Vec<String> = resealed.retired.iter().map(ToString::to_string).collect();
        println!(
            "retired key {}: it left the key file and is kept in {} for backups made before \
             now; delete that file when those backups have expired",
            ids.join(", "),
            kept.display()
        );
    }
}

fn lost(config: &crate::config::Config, yes: bool) -> anyhow::Result<()> {
    let (lost, counts) = face_keys::lost_census(config)?;
    if lost.is_empty() && counts.is_empty() {
        println!(
            "the key file holds every key the database's faces are sealed with: nothing to do"
        );
        return Ok(());
    }
    let ids: Vec<String> = lost.iter().map(ToString::to_string).collect();
    println!(
        "faces sealed with key {} (not in the key file):",
        ids.join(", ")
    );
    for (column, n) in &counts {
        println!("  {column}: {n}");
    }
    if !yes {
        bail!(
            "nothing erased: if that key is lost for good, run again with --yes to erase these \
             faces (students must then be enrolled again; the register and records stay)"
        );
    }
    let forgotten = face_keys::forget_lost(config)?;
    for (table, n) in &forgotten {
        println!("erased the faces of {n} rows of {table}");
    }
    println!("the hub can start; enrol the students' faces again");
    Ok(())
}

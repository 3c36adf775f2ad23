//! Students' guardians from the file (OneRoster's parents, guardians and relatives, each
//! student's `agentSourcedIds` in order): a student the file gives guardians gets exactly
//! them, first to last (at most nine); what the office set for them by hand (a language, not
//! telling one of absences) is kept for a guardian of the same name. A student the file gives
//! none keeps theirs. A guardian id the file does not have is left out, and said.

use std::collections::HashMap;

use uuid::Uuid;

use super::Planner;
use crate::guardians::{DEFAULT_LANGUAGE, MAX_GUARDIANS};
use crate::roster_import::plan::Action;
use crate::roster_import::roster::Agent;
use rollcall_store::StoreError;
use rollcall_store::guardians::{self, Guardian, Relationship};

impl<'a> Planner<'a> {
    pub(super) fn guardians(&mut self) -> Result<(), StoreError> {
        let agents: HashMap<&str, &Agent> = self
            .roster
            .agents
            .iter()
            .map(|a| (a.source_id.as_str(), a))
            .collect();
        for p in &self.roster.people {
            if p.agents.is_empty() {
                continue;
            }
            let Some(&student) = self.students.get(p.source_id.as_str()) else {
                continue;
            };
            let named: Vec<&Agent> = p
                .agents
                .iter()
                .filter_map(|id| agents.get(id.as_str()).copied())
                .take(MAX_GUARDIANS)
                .collect();
            let missing = p.agents.len().min(MAX_GUARDIANS) - named.len();
            let held = match student {
                Some(id) => guardians::of(self.sql, id)?,
                None => Vec::new(),
            };
            let list: Vec<Guardian> = named
                .iter()
                .enumerate()
                .map(|(i, a)| guardian(a, i as u8 + 1, &held))
                .collect();
            let same = |a: &Guardian, b: &Guardian| {
                (a.priority, &a.name, a.relationship, &a.email, &a.phone)
                    == (b.priority, &b.name, b.relationship, &b.email, &b.phone)
            };
            let unchanged =
                held.len() == list.len() && held.iter().zip(&list).all(|(a, b)| same(a, b));
            let mut why = format!("{} from the file", list.len());
            if missing > 0 {
                why += &format!("; {missing} named but not in the file, left out");
            }
            let action = match (unchanged, held.is_empty()) {
                (true, _) => Action::Unchanged,
                (false, true) => Action::Create,
                (false, false) => Action::Update,
            };
            if let (false, true, Some(id)) = (unchanged, self.apply(), student) {
                guardians::replace(self.sql, id, &list)?;
            }
            self.plan
                .push("guardians", &p.source_id, &p.name, action, &why);
        }
        Ok(())
    }
}

/// The file's guardian at `priority`, with what the office set for one of the same name.
fn guardian(a: &Agent, priority: u8, held: &[Guardian]) -> Guardian {
    let kept = held.iter().find(|g| g.name == a.name);
    Guardian {
        id: Uuid::now_v7(),
        priority,
        name: a.name.clone(),
        relationship: a.relationship,
        email: a.email.clone(),
        phone: a.phone.clone(),
        language: kept.map_or(DEFAULT_LANGUAGE.to_owned(), |g| g.language.clone()),
        notices: kept.is_none_or(|g| g.notices),
        responsibility: kept.map_or(a.relationship != Relationship::Relative, |g| {
            g.responsibility
        }),
    }
}

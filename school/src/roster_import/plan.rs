//! What an import does, or (a dry run) would do: one step per row with its reason, counted
//! by kind and action, leavers first.

use std::collections::BTreeMap;

use serde::Serialize;

use super::gate::Gate;

/// What an import does to one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// A student the school's system no longer has, or left in no class: out of their
    /// classes, marked as left.
    Leaver,
    /// A membership that ends.
    Remove,
    /// A teacher the school's system deleted: the account is disabled, kept with its history.
    Disable,
    /// A term the calendar lacks, added only when asked.
    Offered,
}

/// One line of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// `student`, `teacher`, `class`, `membership` or `term`.
    pub kind: &'static str,
    pub source_id: String,
    pub name: String,
    pub action: Action,
    pub reason: String,
}

/// What an import did, or (a dry run) would do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub dry_run: bool,
    /// `plain CSV`, `OneRoster 1.1` or `OneRoster 1.2`.
    pub format: &'static str,
    /// What each part of the file spoke for: `{"users": "delta", …}`.
    pub coverage: BTreeMap<&'static str, &'static str>,
    /// Leavers first, then in the order they were planned.
    pub steps: Vec<Step>,
    /// Steps by kind and action, e.g. `{"student": {"create": 3, "unchanged": 410}}`.
    pub counts: BTreeMap<&'static str, BTreeMap<String, usize>>,
    /// How many students the import makes leavers, against the school's limit.
    pub gate: Gate,
}

impl Plan {
    pub fn push(&mut self, kind: &'static str, id: &str, name: &str, action: Action, why: &str) {
        let counted = serde_json::to_value(action).ok();
        let key = counted.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
        *self
            .counts
            .entry(kind)
            .or_default()
            .entry(key.to_owned())
            .or_default() += 1;
        self.steps.push(Step {
            kind,
            source_id: id.to_owned(),
            name: name.to_owned(),
            action,
            reason: why.to_owned(),
        });
    }

    /// Whether the import changes anything.
    pub fn changes(&self) -> bool {
        self.steps
            .iter()
            .any(|s| !matches!(s.action, Action::Unchanged | Action::Offered))
    }

    /// Students the import makes leavers.
    pub fn leavers(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.action == Action::Leaver)
            .count()
    }

    /// Puts the leavers first: what a person checking a file must see before anything else.
    pub fn leavers_first(&mut self) {
        self.steps.sort_by_key(|s| s.action != Action::Leaver);
    }
}

//! Visitors signed in at reception, as the office of every school does: name, organisation,
//! whom they visit and a vehicle's registration, checked where they enter; a badge with a code
//! that no other visitor on site has; signing out by that code, by name, or from the list. The
//! audit log names the visit, never the visitor; the visitor log itself goes after
//! `retention.visitor_days` (`crate::retention`). No face of a visitor is taken or kept.

use rand::Rng;
use rollcall_shared::UnixMillis;
use rollcall_store::audit::{self, Change};
use rollcall_store::visitors::{self, Visitor};
use rollcall_store::{Sql, StoreError};
use uuid::Uuid;

use crate::office;

/// Longest name, organisation or host, in characters.
pub const MAX_TEXT: usize = 200;
/// Longest vehicle registration, in characters.
pub const MAX_VEHICLE: usize = 16;
/// Characters of a badge code: no 0/O, 1/I/L, to be read aloud and typed from a badge.
const BADGE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const BADGE_LEN: usize = 6;

/// What a visitor gives at reception, as typed.
#[derive(Clone, Debug, Default)]
pub struct Arrival {
    pub name: String,
    pub organisation: Option<String>,
    pub visiting: String,
    pub vehicle: Option<String>,
}

/// Why a visitor could not be signed in or out.
#[derive(Debug, thiserror::Error)]
pub enum VisitorError {
    /// A field is missing or malformed; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Nobody on site matches: what was looked for.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// More than one visitor on site matches a name.
    #[error("{0}")]
    Ambiguous(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How reception names the visitor who is leaving.
#[derive(Clone, Debug)]
pub enum Leaving {
    Badge(String),
    Name(String),
    Visit(Uuid),
}

/// Signs a visitor in: checks what they gave, gives them a badge code no visitor on site has,
/// and audits the visit (not the name).
pub fn sign_in(
    tx: &dyn Sql,
    arrival: &Arrival,
    by: &str,
    now: UnixMillis,
) -> Result<Visitor, VisitorError> {
    let taken: Vec<String> = visitors::on_site(tx)?
        .into_iter()
        .map(|v| v.badge)
        .collect();
    let badge = loop {
        let code = badge_code();
        if !taken.contains(&code) {
            break code;
        }
    };
    let visitor = Visitor {
        id: Uuid::now_v7(),
        name: text("name", &arrival.name, MAX_TEXT)?,
        organisation: optional("organisation", arrival.organisation.as_deref(), MAX_TEXT)?,
        visiting: text("visiting", &arrival.visiting, MAX_TEXT)?,
        vehicle: optional("vehicle", arrival.vehicle.as_deref(), MAX_VEHICLE)?
            .map(|v| v.to_uppercase()),
        badge,
        signed_in_at: now,
        signed_in_by: by.to_owned(),
        signed_out_at: None,
        signed_out_by: None,
    };
    visitors::insert(tx, &visitor)?;
    log(tx, by, "visitor.sign_in", &visitor, now)?;
    Ok(visitor)
}

/// Signs out the visitor on site that `leaving` names.
pub fn sign_out(
    tx: &dyn Sql,
    leaving: &Leaving,
    by: &str,
    now: UnixMillis,
) -> Result<Visitor, VisitorError> {
    let on_site = visitors::on_site(tx)?;
    let found: Vec<&Visitor> = match leaving {
        Leaving::Badge(code) => {
            let code = code.trim().to_uppercase();
            on_site.iter().filter(|v| v.badge == code).collect()
        }
        Leaving::Name(name) => {
            let name = name.trim().to_lowercase();
            on_site
                .iter()
                .filter(|v| v.name.to_lowercase() == name)
                .collect()
        }
        Leaving::Visit(id) => on_site.iter().filter(|v| v.id == *id).collect(),
    };
    let visitor = match found.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(VisitorError::NotFound(match leaving {
                Leaving::Badge(_) => "visitor on site with this badge code",
                Leaving::Name(_) => "visitor on site with this name",
                Leaving::Visit(_) => "visitor on site",
            }));
        }
        several => {
            return Err(VisitorError::Ambiguous(format!(
                "{} visitors on site have this name: sign out by the badge's code",
                several.len()
            )));
        }
    };
    visitors::sign_out(tx, visitor.id, now, by)?;
    let left = visitors::get(tx, visitor.id)?;
    log(tx, by, "visitor.sign_out", &left, now)?;
    Ok(left)
}

/// A new random badge code.
fn badge_code() -> String {
    let mut rng = rand::rng();
    (0..BADGE_LEN)
        .map(|_| BADGE_ALPHABET[rng.random_range(0..BADGE_ALPHABET.len())] as char)
        .collect()
}

fn text(field: &str, value: &str, max: usize) -> Result<String, VisitorError> {
    office::text(field, value, max).map_err(VisitorError::Invalid)
}

fn optional(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, VisitorError> {
    office::optional_text(field, value, max).map_err(VisitorError::Invalid)
}

/// The visit in the audit log: its id and times, never the visitor's name.
fn log(
    tx: &dyn Sql,
    by: &str,
    action: &str,
    v: &Visitor,
    now: UnixMillis,
) -> Result<(), StoreError> {
    let change = Change {
        actor: by,
        action,
        target: format!("visitor:{}", v.id),
        before: None,
        after: Some(serde_json::json!({
            "signed_in_at": v.signed_in_at, "signed_out_at": v.signed_out_at,
        })),
        at: now,
    };
    audit::log(tx, change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_visitor_gives_is_checked_where_it_enters() {
        assert_eq!(text("name", "  Ann Lee ", MAX_TEXT).unwrap(), "Ann Lee");
        assert!(text("name", " ", MAX_TEXT).is_err());
        let ten_kb = "x".repeat(10 * 1024);
        let e = text("name", &ten_kb, MAX_TEXT).unwrap_err();
        assert_eq!(e.to_string(), "name: at most 200 characters");
        assert!(text("name", "Ann\u{0}", MAX_TEXT).is_err());
        assert_eq!(optional("vehicle", Some("  "), MAX_VEHICLE).unwrap(), None);
    }

    #[test]
    fn badge_codes_are_six_characters_easy_to_read() {
        for _ in 0..100 {
            let code = badge_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| BADGE_ALPHABET.contains(&b)), "{code}");
            assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        }
    }
}

//! The reasons a family may give for an absence: each with the attendance code it stands for
//! when the office accepts it, in the words of the family's language, and a family's answer
//! checked where it enters ([`family_reason`]).

use rollcall_shared::UnixMillis;
use rollcall_store::notices::Reply;

use crate::family_messages as words;

/// The reasons a family may give, with the attendance code each stands for when accepted.
pub const REASONS: [(&str, &str); 4] = [
    ("ill", "I"),
    ("medical", "M"),
    ("religious", "R"),
    ("other", "C"),
];
/// Longest note a family may add, in characters.
pub const MAX_NOTE: usize = 500;

/// The reasons as a family reads them in `language` (English, or Welsh).
pub fn reason_labels(language: &str) -> [(&'static str, &'static str); 4] {
    match words::choose(language, &words::BUILT_IN) {
        "cy" => [
            ("ill", "Sâl"),
            ("medical", "Apwyntiad meddyg neu ddeintydd"),
            ("religious", "Gŵyl neu ddefod grefyddol"),
            ("other", "Rheswm arall (dywedwch wrthym)"),
        ],
        _ => [
            ("ill", "Ill"),
            ("medical", "Medical or dental appointment"),
            ("religious", "Religious observance"),
            ("other", "Something else (please tell us)"),
        ],
    }
}

/// A family's reason, checked: one of [`REASONS`], and a note (required for `other`).
pub fn family_reason(reason: &str, note: Option<&str>, now: UnixMillis) -> Result<Reply, String> {
    if !REASONS.iter().any(|(r, _)| *r == reason) {
        return Err("reason: ill, medical, religious or other".into());
    }
    let note = crate::office::optional_text("note", note, MAX_NOTE)?;
    if reason == "other" && note.is_none() {
        return Err("note: please tell the school the reason".into());
    }
    Ok(Reply {
        reason: reason.to_owned(),
        note,
        replied_at: now,
    })
}

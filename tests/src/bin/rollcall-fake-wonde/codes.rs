//! The school's attendance codes: England's national attendance and absence codes by default,
//! each with a Wonde-style id made up by the stand-in, or a list read from `--codes FILE`
//! (`[{"id": "…", "code": "…"}, …]`). The code letters are the DfE's (see SOURCE.md); the ids
//! are not anyone's.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, ensure};
use rollcall_e2e::standin::json;
use serde_json::Value;

use crate::api::Code;

/// England's national codes (SOURCE.md says where they were read): present (`/` AM, `\` PM),
/// late before the register closes, approved educational activities, authorised and
/// unauthorised absence.
const ENGLAND: &[&str] = &[
    "/", "\\", "L", "K", "V", "P", "W", "B", "C1", "C2", "C", "M", "T", "R", "I", "J1", "S", "E",
    "N", "O", "U",
];

/// England's codes, with ids `A1000000001`, `A1000000002`, … in the order above.
pub fn england() -> Vec<Code> {
    ENGLAND
        .iter()
        .zip(1_000_000_001_u64..)
        .map(|(code, n)| Code {
            id: format!("A{n}"),
            code: (*code).to_owned(),
        })
        .collect()
}

/// The codes of `path`; ids must be distinct and not empty.
pub fn load(path: &Path) -> anyhow::Result<Vec<Code>> {
    json::load(path, "codes", from_json)
}

fn from_json(json: &Value) -> anyhow::Result<Vec<Code>> {
    let list = json.as_array().context("not an array")?;
    let mut ids = BTreeSet::new();
    let mut codes = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let member = |name: &str| {
            entry[name]
                .as_str()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
                .with_context(|| format!("entry {i}: {name} is not a non-empty string"))
        };
        let code = Code {
            id: member("id")?,
            code: member("code")?,
        };
        ensure!(
            ids.insert(code.id.clone()),
            "entry {i}: id {} twice",
            code.id
        );
        codes.push(code);
    }
    ensure!(!codes.is_empty(), "no codes");
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn england_has_distinct_ids_and_both_present_marks() {
        let codes = england();
        let ids: BTreeSet<_> = codes.iter().map(|c| &c.id).collect();
        assert_eq!(ids.len(), codes.len());
        assert_eq!(codes[0].code, "/");
        assert_eq!(codes[1].code, "\\");
    }

    #[test]
    fn a_codes_file_needs_distinct_non_empty_ids() {
        let good = json!([{"id": "X1", "code": "/"}, {"id": "X2", "code": "N"}]);
        assert_eq!(from_json(&good).unwrap().len(), 2);
        for bad in [
            json!([]),
            json!({"id": "X1"}),
            json!([{"id": "X1", "code": "/"}, {"id": "X1", "code": "N"}]),
            json!([{"id": " ", "code": "/"}]),
            json!([{"id": "X1", "code": 3}]),
        ] {
            assert!(from_json(&bad).is_err(), "{bad}");
        }
    }
}

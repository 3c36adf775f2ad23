//! The fault modes a test sets with `POST /control`: how a stand-in's vendor endpoints answer
//! from now on (normally, 401, 429 with `Retry-After`, 500, or never), and the parsing of the
//! control body, `{"mode", "retryAfter", "students"}` and any of the stand-in's own keys (the
//! Wonde stand-in's `lessons`, the Ed-Fi one's `sections`). What each fault's answer looks
//! like, what a student is, and what its own keys mean, stay with each stand-in.

use serde_json::Value;

/// How the vendor endpoints answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Ok,
    Unauthorized,
    Throttle { retry_after: u32 },
    Fail,
    Hang,
}

impl Mode {
    /// The mode's name in `/control`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unauthorized => "unauthorized",
            Self::Throttle { .. } => "throttle",
            Self::Fail => "fail",
            Self::Hang => "hang",
        }
    }
}

/// What one `POST /control` asks for.
#[derive(Debug, PartialEq)]
pub struct Control {
    /// The new mode; `None` keeps the current one.
    pub mode: Option<Mode>,
    /// More students, as the stand-in spells them; not yet checked.
    pub students: Vec<String>,
    /// Every other key, for the stand-in to take or refuse.
    pub own: serde_json::Map<String, Value>,
}

impl Control {
    /// The control body, or `None` if it is not one: a non-empty object of `mode`,
    /// `retryAfter` (seconds, default 1, for `throttle`), `students` (strings) and the
    /// stand-in's own keys.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let Ok(Value::Object(mut asked)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        if asked.is_empty() {
            return None;
        }
        let known = ["mode", "retryAfter", "students"];
        let own = asked
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|k| asked.remove_entry(&k))
            .collect();
        let retry_after = match asked.get("retryAfter").map(Value::as_u64) {
            None => 1,
            Some(Some(n)) => u32::try_from(n).unwrap_or(u32::MAX),
            Some(None) => return None,
        };
        let mode = match asked.get("mode").map(Value::as_str) {
            None => None,
            Some(Some("ok")) => Some(Mode::Ok),
            Some(Some("unauthorized")) => Some(Mode::Unauthorized),
            Some(Some("throttle")) => Some(Mode::Throttle { retry_after }),
            Some(Some("fail")) => Some(Mode::Fail),
            Some(Some("hang")) => Some(Mode::Hang),
            Some(_) => return None,
        };
        let students = match asked.get("students") {
            None => Vec::new(),
            Some(list) => list
                .as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        };
        Some(Self {
            mode,
            students,
            own,
        })
    }
}

/// What to tell a client whose control body could not be read; `student` is how the
/// stand-in writes one student (`studentUniqueId`, `"ID=MIS_ID"`).
pub fn usage(student: &str) -> String {
    format!(
        "give {{\"mode\": \"ok\" | \"unauthorized\" | \"throttle\" | \"fail\" | \"hang\", \
         \"retryAfter\": seconds, \"students\": [{student}, ...]}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_waits_a_second_unless_told_otherwise() {
        let asked = Control::parse(br#"{"mode": "throttle"}"#).unwrap();
        assert_eq!(asked.mode, Some(Mode::Throttle { retry_after: 1 }));
        let asked = Control::parse(br#"{"mode": "throttle", "retryAfter": 7}"#).unwrap();
        assert_eq!(asked.mode, Some(Mode::Throttle { retry_after: 7 }));
        let asked = Control::parse(br#"{"students": ["a", "b"]}"#).unwrap();
        assert_eq!(
            asked,
            Control {
                mode: None,
                students: vec!["a".into(), "b".into()],
                own: serde_json::Map::new(),
            }
        );
        let asked = Control::parse(br#"{"mode": "ok", "lessons": []}"#).unwrap();
        assert_eq!(asked.own.get("lessons"), Some(&Value::Array(Vec::new())));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "{}",
            "[]",
            "not json",
            r#"{"mode": "sulk"}"#,
            r#"{"retryAfter": "soon"}"#,
            r#"{"students": "a"}"#,
            r#"{"students": [1]}"#,
        ] {
            assert!(Control::parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_usage_names_every_mode() {
        let text = usage("studentUniqueId");
        assert!(text.contains("\"hang\", \"retryAfter\": seconds"), "{text}");
        assert!(
            text.ends_with("\"students\": [studentUniqueId, ...]}"),
            "{text}"
        );
    }
}

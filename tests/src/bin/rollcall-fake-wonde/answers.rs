//! Every answer body the stand-in gives for the Wonde endpoints, spelt in one place. The list
//! envelope (`data`, `meta.pagination.next`/`previous`/`more`) and the write answer's
//! `writeback_id` are Wonde's (their client libraries read them; see SOURCE.md). The error
//! bodies (`message`, `errors`) are the stand-in's own: Wonde's libraries only rely on the
//! status (422 for validation), and no published error body was found.

use serde_json::{Value, json};

use crate::validate::Problems;
use rollcall_e2e::standin::http::Answer;

/// Where a page sits among the others, as full URLs.
#[derive(Debug)]
pub struct Links {
    pub next: Option<String>,
    pub previous: Option<String>,
}

/// `{"data": [...], "meta": {"pagination": {"next", "previous", "more"}}}`.
pub fn list(data: Vec<Value>, links: Links) -> Answer {
    let more = links.next.is_some();
    let pagination = json!({"next": links.next, "previous": links.previous, "more": more});
    Answer::json(
        200,
        json!({"data": data, "meta": {"pagination": pagination}}),
    )
}

/// A register write taken: `{"writeback_id": …}`.
pub fn written(writeback_id: &str) -> Answer {
    Answer::json(200, json!({ "writeback_id": writeback_id }))
}

/// The model's validation status (422) with every problem keyed by its path.
pub fn invalid(status: u16, problems: Problems) -> Answer {
    let body = json!({"message": "The given data was invalid.", "errors": problems});
    Answer::json(status, body)
}

/// 400: a request the stand-in cannot read at all (a body that is not JSON, a bad query).
pub fn bad_request(problems: Problems) -> Answer {
    let body = json!({"message": "The request could not be read.", "errors": problems});
    Answer::json(400, body)
}

/// 401: no token, or not the school's.
pub fn unauthenticated() -> Answer {
    Answer::json(401, json!({"message": "Unauthenticated."}))
        .with_header("www-authenticate", "Bearer".to_owned())
}

/// 404: no such endpoint, or a school this token cannot see.
pub fn not_found() -> Answer {
    Answer::json(404, json!({"message": "Not found."}))
}

/// 405: a known path with a method it does not take.
pub fn method_not_allowed(allowed: &str) -> Answer {
    Answer::json(405, json!({"message": "Method not allowed."}))
        .with_header("allow", allowed.to_owned())
}

/// 429 with `Retry-After` (`throttle` mode).
pub fn throttled(retry_after: u32) -> Answer {
    Answer::json(429, json!({"message": "Too many requests: retry later."}))
        .with_header("retry-after", retry_after.to_string())
}

/// 500 (`fail` mode).
pub fn server_error() -> Answer {
    Answer::json(500, json!({"message": "Server error."}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_says_more_only_when_there_is_a_next_page() {
        let links = Links {
            next: Some("http://x/y?page=2".to_owned()),
            previous: None,
        };
        let answer = list(vec![json!({"id": "A1"})], links);
        let body = answer.body.unwrap();
        assert_eq!(body["meta"]["pagination"]["more"], true);
        assert_eq!(body["meta"]["pagination"]["previous"], Value::Null);
        let last = list(
            Vec::new(),
            Links {
                next: None,
                previous: None,
            },
        );
        assert_eq!(last.body.unwrap()["meta"]["pagination"]["more"], false);
    }
}

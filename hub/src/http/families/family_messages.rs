//! Families' messages in the school's words (admins; `rollcall_school::family_messages` has
//! the rules):
//!
//! - `GET /family-messages`: every template in force, by kind and language, with the
//!   placeholders each kind may use;
//! - `PUT /family-messages/{kind}/{language}`: the school's words (`subject`, `email`, `sms`),
//!   checked: a placeholder the kind does not have is refused naming it;
//! - `DELETE /family-messages/{kind}/{language}`: back to the built-in words;
//! - `POST /family-messages/{kind}/{language}/preview`: what a family would read, filled in
//!   with this morning's date, the school's name, a child's first name and a sample link;
//!   the body may hold a draft (`subject`, `email`, `sms`) to see before saving it, and a
//!   `first_name`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::family_messages::{
    self as messages, Kind, MessageError, Template, Values, date_in,
};
use rollcall_school::principal::Principal;
use rollcall_store::Sql;

/// How many SMS parts a text of `chars` characters takes (GSM's 160, or 153 a part when it
/// is split; a text with characters outside GSM's alphabet, as Welsh's ŵ and ŷ are, 70 and 67).
fn sms_parts(text: &str) -> usize {
    let chars = text.chars().count();
    let gsm = text
        .chars()
        .all(|c| (c.is_ascii() && !c.is_ascii_control()) || c == '\n');
    let (one, each) = if gsm { (160, 153) } else { (70, 67) };
    match chars {
        0 => 0,
        n if n <= one => 1,
        n => n.div_ceil(each),
    }
}

fn kind(req: &Request) -> Result<Kind, ApiError> {
    let raw = req.param("kind");
    Kind::parse(raw)
        .ok_or_else(|| ApiError::NotFound(format!("message kind {raw:?} (absence or arrived)")))
}

pub async fn list(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let templates = hub.read(|c| messages::catalogue(c)).await?;
    let placeholders: Value = Kind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), json!(k.placeholders())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    Reply::ok(json!({"templates": templates, "placeholders": placeholders}))
}

pub async fn put(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (kind, language) = (kind(req)?, req.param("language").to_owned());
    let template: Template = req.json()?;
    let (actor, now) = (who.actor(), hub.now());
    let write = move |tx: &dyn Sql| {
        Ok::<_, ApiError>(messages::set(tx, kind, &language, template, &actor, now)?)
    };
    Reply::ok(hub.write(write).await?)
}

pub async fn delete(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (kind, language) = (kind(req)?, req.param("language").to_owned());
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(messages::reset(tx, kind, &language, &actor, now)?);
    hub.write(write).await?;
    Ok(Reply::NoContent)
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    subject: Option<String>,
    email: Option<String>,
    sms: Option<String>,
    first_name: Option<String>,
}

pub async fn preview(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let (kind, language) = (kind(req)?, req.param("language").to_owned());
    let body: PreviewBody = match req.body.is_empty() {
        true => PreviewBody::default(),
        false => req.json()?,
    };
    let template = match (body.subject, body.email, body.sms) {
        (Some(subject), Some(email), Some(sms)) => {
            let draft = Template {
                subject,
                email,
                sms,
            };
            draft.checked(kind).map_err(MessageError::from)?
        }
        (None, None, None) => {
            hub.read(move |c| messages::words(c, kind, &language))
                .await?
                .1
        }
        _ => {
            return Err(ApiError::bad(
                "a draft gives subject, email and sms together",
            ));
        }
    };
    let language = req.param("language");
    let notices = &hub.config.notices;
    let rules = hub.config.rules();
    let first_name = body.first_name.unwrap_or_else(|| "Ada".into());
    let values = Values {
        school: match notices.school_name.trim() {
            "" => "Rollcall school".into(),
            name => name.into(),
        },
        first_name: first_name.chars().take(50).collect(),
        date: date_in(language, rules.local_day(hub.now())),
        reply_link: format!(
            "{}/#/reply/EXAMPLE-LINK",
            notices.pages_url.trim_end_matches('/')
        ),
        time: "09:42".into(),
    };
    let filled = template.render(&values);
    let parts = sms_parts(&filled.sms);
    Reply::ok(json!({
        "kind": kind,
        "language": language,
        "subject": filled.subject,
        "email": filled.email,
        "sms": filled.sms,
        "sms_characters": filled.sms.chars().count(),
        "sms_parts": parts,
    }))
}

impl From<MessageError> for ApiError {
    fn from(e: MessageError) -> Self {
        match e {
            MessageError::Invalid(m) => ApiError::BadRequest(m),
            MessageError::Template(t) => ApiError::BadRequest(t.to_string()),
            MessageError::NotFound(l) => {
                ApiError::NotFound(format!("the school's own words in {l}"))
            }
            MessageError::Store(s) => s.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sms_parts;

    #[test]
    fn sms_parts_follow_gsm_and_unicode_lengths() {
        assert_eq!(sms_parts(""), 0);
        assert_eq!(sms_parts(&"a".repeat(160)), 1);
        assert_eq!(sms_parts(&"a".repeat(161)), 2);
        assert_eq!(sms_parts(&"ŵ".repeat(70)), 1);
        assert_eq!(sms_parts(&"ŵ".repeat(71)), 2);
    }
}

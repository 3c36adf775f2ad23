//! Families told the same morning (`rollcall_school::notices` has the rules):
//!
//! - `POST /replies/look-up` and `POST /replies` take a family's reply link's token in the
//!   body (never the URL, so no access log keeps it) with no account: whose absence it is
//!   (the child's first name, the day, the reasons to choose from, in the notice's language),
//!   then their reason. A forged link is 404, a used or expired one 410, and changes nothing.
//! - `GET /notices?day=` (`?format=csv`): the day's notices per student, each message's
//!   status (and why one failed), the reply and the decision; a teacher sees their classes'
//!   students. `POST /notices/{student}/{day}/accept` and `…/reject` decide on a reply.

use chrono::NaiveDate;
use rollcall_shared::StudentId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::family_messages::date_in;
use rollcall_school::notices::{self, first_name, reason_labels};
use rollcall_school::principal::Principal;
use rollcall_store::Sql;
use rollcall_store::notices::{self as stored, Message, Notice};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyBody {
    token: String,
    reason: String,
    note: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    note: Option<String>,
}

/// What the reply page shows of a notice: no surname, no face, no record.
fn for_family(hub: &Hub, notice: &Notice) -> Value {
    let reasons: Vec<Value> = reason_labels(&notice.language)
        .iter()
        .map(|(code, label)| json!({"code": code, "label": label}))
        .collect();
    json!({
        "first_name": first_name(&notice.name),
        "school": hub.config.notices.school_name,
        "day": notice.day,
        "date": date_in(&notice.language, notice.day),
        "language": notice.language,
        "reasons": reasons,
    })
}

pub async fn look_up(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let TokenBody { token } = req.json()?;
    let (key, rules, now) = (hub.replies.clone(), hub.config.rules(), hub.now());
    let read =
        move |c: &dyn Sql| Ok::<_, ApiError>(notices::look_up(c, &key, &token, &rules, now)?);
    let notice = hub.read(read).await?;
    Reply::ok(for_family(hub, &notice))
}

pub async fn reply(hub: &Hub, req: &Request) -> Result<Reply, ApiError> {
    let body: ReplyBody = req.json()?;
    let (key, rules, now) = (hub.replies.clone(), hub.config.rules(), hub.now());
    let write = move |tx: &dyn Sql| {
        let answer = (body.reason.as_str(), body.note.as_deref());
        Ok::<_, ApiError>(notices::reply(tx, &key, &body.token, answer, &rules, now)?)
    };
    let notice = hub.write(write).await?;
    let reason = notice.reply.as_ref().map(|r| r.reason.clone());
    Reply::ok(json!({
        "received": true,
        "first_name": first_name(&notice.name),
        "reason": reason,
    }))
}

/// An address as the office sees it in a list: enough to tell two apart, not to copy.
fn masked(channel: &str, address: &str) -> String {
    match (channel, address.split_once('@')) {
        ("email", Some((user, domain))) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => {
            let digits: Vec<char> = address.chars().filter(char::is_ascii_digit).collect();
            let tail: String = digits[digits.len().saturating_sub(3)..].iter().collect();
            format!("•••{tail}")
        }
    }
}

fn message_json(m: &Message) -> Value {
    json!({
        "kind": m.kind,
        "contact": m.contact,
        "guardian": m.guardian,
        "channel": m.channel,
        "address": masked(&m.channel, &m.address),
        "status": m.status,
        "tries": m.tries,
        "last_error": m.last_error,
        "sent_at": m.sent_at,
    })
}

fn notice_json(notice: &Notice, messages: &[Message]) -> Value {
    let theirs: Vec<Value> = messages
        .iter()
        .filter(|m| m.student == notice.student)
        .map(message_json)
        .collect();
    json!({
        "student": notice.student,
        "name": notice.name,
        "created_at": notice.created_at,
        "language": notice.language,
        "messages": theirs,
        "reply": notice.reply,
        "decision": notice.decision,
        "arrived_at": notice.arrived_at,
    })
}

pub async fn list(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (rules, now, w) = (hub.config.rules(), hub.now(), who.clone());
    let day = req.query_day("day")?.unwrap_or(rules.local_day(now));
    let read = move |c: &dyn Sql| {
        let seen: Vec<Notice> = stored::of_day(c, day)?
            .into_iter()
            .filter(|n| access::student(c, &w, n.student).is_ok())
            .collect();
        Ok::<_, ApiError>((seen, stored::messages_of_day(c, day)?))
    };
    let (seen, messages) = hub.read(read).await?;
    if req.wants_csv() {
        return Ok(Reply::csv(
            format!("notices-{day}.csv"),
            csv(&seen, &messages),
        ));
    }
    let replied = seen.iter().filter(|n| n.reply.is_some()).count();
    let accepted = seen
        .iter()
        .filter(|n| n.decision.as_ref().is_some_and(|d| d.state == "accepted"))
        .count();
    let listed: Vec<Value> = seen.iter().map(|n| notice_json(n, &messages)).collect();
    Reply::ok(json!({
        "day": day,
        "told": seen.len(),
        "replied": replied,
        "accepted": accepted,
        "notices": listed,
    }))
}

/// One line per message, then per notice without one: the office's follow-up list.
fn csv(seen: &[Notice], messages: &[Message]) -> String {
    let mut out = rollcall_school::csv::line(&[
        "student",
        "day",
        "kind",
        "contact",
        "guardian",
        "channel",
        "status",
        "tries",
        "error",
        "sent_at",
        "reason",
        "note",
        "decision",
        "decided_by",
        "arrived_at",
    ]);
    for n in seen {
        let reply = n.reply.as_ref();
        let decision = n.decision.as_ref();
        let common = |m: Option<&Message>| {
            let number = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            rollcall_school::csv::line(&[
                &n.name,
                &n.day.to_string(),
                m.map_or("", |m| m.kind.as_str()),
                &m.map(|m| m.contact.to_string()).unwrap_or_default(),
                m.map_or("", |m| m.guardian.as_str()),
                m.map_or("", |m| m.channel.as_str()),
                m.map_or("", |m| m.status.as_str()),
                &m.map(|m| m.tries.to_string()).unwrap_or_default(),
                m.and_then(|m| m.last_error.as_deref()).unwrap_or(""),
                &number(m.and_then(|m| m.sent_at).map(|t| t.0)),
                reply.map_or("", |r| r.reason.as_str()),
                reply.and_then(|r| r.note.as_deref()).unwrap_or(""),
                decision.map_or("", |d| d.state.as_str()),
                decision.map_or("", |d| d.by.as_str()),
                &number(n.arrived_at.map(|t| t.0)),
            ])
        };
        let theirs: Vec<&Message> = messages.iter().filter(|m| m.student == n.student).collect();
        if theirs.is_empty() {
            out.push_str(&common(None));
        }
        for m in theirs {
            out.push_str(&common(Some(m)));
        }
    }
    out
}

async fn decide(
    hub: &Hub,
    req: &Request,
    who: &Principal,
    accept: bool,
) -> Result<Reply, ApiError> {
    let student: StudentId = req.id("student", "student")?;
    let day: NaiveDate = req.day("day")?;
    let body: DecisionBody = match req.body.is_empty() {
        true => DecisionBody::default(),
        false => req.json()?,
    };
    let (w, rules, now) = (who.clone(), hub.config.rules(), hub.now());
    let write = move |tx: &dyn Sql| {
        let decided = (accept, body.note.as_deref());
        let notice = notices::decide(tx, &w, (student, day), decided, &rules, now)?;
        let messages = stored::messages(tx, student, day)?;
        Ok::<_, ApiError>(notice_json(&notice, &messages))
    };
    Reply::ok(hub.write(write).await?)
}

pub async fn accept(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    decide(hub, req, who, true).await
}

pub async fn reject(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    decide(hub, req, who, false).await
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn addresses_are_masked_in_lists() {
        assert_eq!(masked("email", "mary@example.com"), "m***@example.com");
        assert_eq!(masked("sms", "+44 7700 900123"), "•••123");
        assert_eq!(masked("sms", "12"), "•••12");
    }
}

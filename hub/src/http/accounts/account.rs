//! `GET|PATCH /account`: what a signed-in user chooses for themselves: their e-mail address,
//! the daily digest (on or off, and when), the class their pages open on, and whether a
//! register of theirs not taken in time is e-mailed to them. Every change is
//! audited (`account.update`, before and after). Admins see everyone's in `GET /users`.

use rollcall_shared::ClassId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::principal::Principal;
use rollcall_store::Sql;
use rollcall_store::audit::{self, Change};
use rollcall_store::users::{self, Choices, User};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    /// Each field absent: unchanged; `null` (where allowed): cleared.
    #[serde(default, deserialize_with = "input::present")]
    email: Option<Option<String>>,
    digest: Option<bool>,
    #[serde(default, deserialize_with = "input::present")]
    digest_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "input::present")]
    default_class: Option<Option<ClassId>>,
    register_reminders: Option<bool>,
}

pub async fn get(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (w, school_at) = (who.clone(), school_digest_at(hub));
    let read = move |c: &dyn Sql| {
        let user = users::by_id(c, w.user_id)?;
        let classes = access::classes(c, &w)?;
        Ok::<_, ApiError>(answer(&user, classes, school_at))
    };
    Reply::ok(hub.read(read).await?)
}

pub async fn update(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: AccountBody = req.json()?;
    let email = match body.email {
        Some(Some(text)) => Some(Some(input::email(&text)?)),
        other => other,
    };
    let digest_at = match body.digest_at {
        Some(Some(text)) => match input::minute_of_day("digest_at", &text)? {
            1440 => return Err(ApiError::bad("digest_at: 24:00 is the next day's 00:00")),
            minute => Some(Some(minute)),
        },
        Some(None) => Some(None),
        None => None,
    };
    let (w, actor, now, school_at) = (who.clone(), who.actor(), hub.now(), school_digest_at(hub));
    let write = move |tx: &dyn Sql| {
        let user = users::by_id(tx, w.user_id)?;
        if let Some(Some(class)) = body.default_class {
            access::class(tx, &w, class)?;
        }
        let choices = Choices {
            digest: body.digest.unwrap_or(user.choices.digest),
            digest_at: digest_at.unwrap_or(user.choices.digest_at),
            default_class: body.default_class.unwrap_or(user.choices.default_class),
            register_reminders: body
                .register_reminders
                .unwrap_or(user.choices.register_reminders),
        };
        let address = email.unwrap_or_else(|| user.email.clone());
        users::set_choices(tx, user.id, address.as_deref(), &choices)?;
        let changed = User {
            email: address,
            choices,
            ..user.clone()
        };
        let said = |u: &User| json!({"email": u.email, "choices": u.choices});
        audit::log(
            tx,
            Change {
                actor: &actor,
                action: "account.update",
                target: format!("user:{}", user.username),
                before: Some(said(&user)),
                after: Some(said(&changed)),
                at: now,
            },
        )?;
        let classes = access::classes(tx, &w)?;
        Ok::<_, ApiError>(answer(&changed, classes, school_at))
    };
    Reply::ok(hub.write(move |tx| write(tx)).await?)
}

/// The school's digest time, "HH:MM", when the hub sends e-mail at all.
fn school_digest_at(hub: &Hub) -> Option<String> {
    let email = hub.config.email.as_ref()?;
    let minute = email.digest.minute().unwrap_or(450);
    Some(format!("{:02}:{:02}", minute / 60, minute % 60))
}

/// The account as the page shows it: the user, the classes they may pick from, and the
/// school's digest time (none: this hub sends no e-mail).
fn answer(
    user: &User,
    classes: Vec<rollcall_store::school::Class>,
    school_at: Option<String>,
) -> Value {
    let classes: Vec<Value> = classes
        .into_iter()
        .map(|c| json!({"id": c.id, "name": c.name}))
        .collect();
    json!({"user": user, "classes": classes, "school_digest_at": school_at})
}

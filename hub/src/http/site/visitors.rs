//! Visitors at reception: `POST /visitors` signs one in (their badge's code in the answer),
//! `GET /visitors` lists a day's visits and those still on site, and they sign out by badge
//! code or name (`POST /visitors/sign-out`) or from the list (`POST /visitors/{id}/sign-out`).
//! Any signed-in user may: reception is often a teacher's or an office's laptop. The rules are
//! [`rollcall_school::visitors`].

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_school::visitors::{self, Arrival, Leaving};
use rollcall_store::{Sql, visitors as stored};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArrivalBody {
    name: String,
    organisation: Option<String>,
    visiting: String,
    vehicle: Option<String>,
}

/// Who is leaving: their badge's code, or their name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeavingBody {
    badge: Option<String>,
    name: Option<String>,
}

pub async fn sign_in(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: ArrivalBody = req.json()?;
    let arrival = Arrival {
        name: body.name,
        organisation: body.organisation,
        visiting: body.visiting,
        vehicle: body.vehicle,
    };
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(visitors::sign_in(tx, &arrival, &actor, now)?);
    Reply::created(hub.write(write).await?)
}

/// The visits of `?day` (the school's today unless given), and every visitor still on site.
pub async fn list(hub: &Hub, req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let rules = hub.config.rules();
    let day = match req.query_day("day")? {
        Some(day) => day,
        None => rules.local_day(hub.now()),
    };
    let from = rules.instant(day, 0);
    let to = rules.instant(day.succ_opt().unwrap_or(day), 0);
    let visits = hub.read(move |c| stored::between(c, from, to)).await?;
    let on_site = visits.iter().filter(|v| v.signed_out_at.is_none()).count();
    Reply::ok(json!({"day": day, "on_site": on_site, "visitors": visits}))
}

pub async fn sign_out(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let body: LeavingBody = req.json()?;
    let leaving = match (body.badge, body.name) {
        (Some(code), None) => Leaving::Badge(code),
        (None, Some(name)) => Leaving::Name(name),
        _ => {
            return Err(ApiError::bad(
                "give the badge's code or the visitor's name, not both",
            ));
        }
    };
    leave(hub, who, leaving).await
}

pub async fn sign_out_visit(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let visit: Uuid = req.id("visitor", "visitor")?;
    leave(hub, who, Leaving::Visit(visit)).await
}

async fn leave(hub: &Hub, who: &Principal, leaving: Leaving) -> Result<Reply, ApiError> {
    let (actor, now) = (who.actor(), hub.now());
    let write =
        move |tx: &dyn Sql| Ok::<_, ApiError>(visitors::sign_out(tx, &leaving, &actor, now)?);
    Reply::ok(hub.write(write).await?)
}

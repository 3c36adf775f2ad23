//! `GET /missing`: the Missing now page (`rollcall_school::missing`): every pupil in school and
//! missing from a lesson now, today's alerts that ended (found, with the time), and the
//! registers not taken. Admins and staff with the pastoral permission see the whole school; a
//! teacher the lessons of their own classes, which their review page shows.

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::missing::watch;
use rollcall_school::principal::Principal;

pub async fn board(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let (rules, now, who) = (hub.config.rules(), hub.now(), who.clone());
    let watch = crate::missing::watch_of(&hub.config);
    let read = move |c: &dyn rollcall_store::Sql| {
        Ok::<_, ApiError>(watch::board(c, &rules, watch, &who, now)?)
    };
    Reply::ok(hub.read(read).await?)
}

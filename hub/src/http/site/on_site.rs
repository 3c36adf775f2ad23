//! `GET /on-site`: who is on site now: students (`rollcall_school::on_site`), from the accepted
//! records of the school's day so far and reception's sign-outs and sign-ins; visitors signed in at reception and not out; and staff
//! whose log has them in. Each group has its own count. Every signed-in member of staff may read
//! it, teachers included: in an evacuation any of them may be the one holding the list.

use rollcall_shared::UnixMillis;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::attendance::Rules;
use rollcall_school::on_site::{movements_of_day, whereabouts};
use rollcall_school::principal::Principal;
use rollcall_store::{Sql, school, visitors};

pub async fn on_site(hub: &Hub, _req: &Request, _who: &Principal) -> Result<Reply, ApiError> {
    let (rules, now) = (hub.config.rules(), hub.now());
    Reply::ok(hub.read(move |c| answer(c, &rules, now)).await?)
}

fn answer(conn: &dyn Sql, rules: &Rules, now: UnixMillis) -> Result<Value, ApiError> {
    let day = rules.local_day(now);
    let movements = movements_of_day(conn, rules, now)?;
    let names: std::collections::HashMap<_, _> = school::students(conn)?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut students: Vec<Value> = whereabouts(&movements)
        .into_iter()
        .filter_map(|w| {
            let name = names.get(&w.student)?;
            Some(json!({
                "student": w.student,
                "name": name,
                "on_site": w.on_site,
                "arrived_at": w.arrived_at,
                "last_at": w.last_at,
                "last_room": w.last_room,
                "last_direction": w.last_direction,
            }))
        })
        .collect();
    students.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let here = students.iter().filter(|s| s["on_site"] == true).count();
    // A visitor still signed in from an earlier day is shown, not dropped.
    let visitors = visitors::on_site(conn)?;
    // So is a member of staff who never signed out.
    let staff = rollcall_school::staff::on_site(conn)?;
    Ok(json!({
        "day": day,
        "now": now,
        "on_site": here,
        "left": students.len() - here,
        "students": students,
        "visitors_on_site": visitors.len(),
        "visitors": visitors,
        "staff_on_site": staff.len(),
        "staff": staff,
    }))
}

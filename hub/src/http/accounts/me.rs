//! What a student's own account sees (the route table lets a student reach nothing else):
//! who they are, their consent, their classes and timetable (`GET /me/student`), and their
//! marks and history (`GET /me/history`, the history page's own answer, for them).

use serde_json::json;

use crate::http::error::ApiError;
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::principal::Principal;
use rollcall_shared::StudentId;
use rollcall_store::{school, timetable};

/// The student the caller's account is, or 403 for a staff account.
pub(in crate::http) fn own_student(who: &Principal) -> Result<StudentId, ApiError> {
    who.student.ok_or_else(|| {
        ApiError::Forbidden("only a student's account has its own attendance".into())
    })
}

pub async fn student(hub: &Hub, _req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let id = own_student(who)?;
    let answer = hub
        .read(move |c| {
            let student = school::student(c, id)?;
            let mut classes = Vec::new();
            let mut slots = Vec::new();
            for class_id in school::classes_of(c, id)? {
                let class = school::class(c, class_id)?;
                for slot in timetable::slots_of_class(c, class_id)? {
                    slots.push(json!({"class": class.name, "slot": slot}));
                }
                classes.push(json!({"id": class.id, "name": class.name, "code": class.code}));
            }
            Ok::<_, ApiError>(json!({
                "student": {
                    "id": student.id,
                    "name": student.name,
                    "year_group": student.profile.year_group,
                    "form": student.profile.form,
                },
                "consent": student.consent,
                "classes": classes,
                "timetable": slots,
            }))
        })
        .await?;
    Reply::ok(answer)
}

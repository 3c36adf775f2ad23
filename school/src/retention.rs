//! What the hub keeps, and for how long. Two clocks run apart:
//!
//! - **The register** (closed sessions, entries, amendments) is a legal record: it is kept for
//!   `retention.register_years` (six, as England's regulations ask) and then deleted whole.
//!   Nothing shorter touches it: not record retention, not erasure.
//! - **Faces** (biometric data) are kept only while they serve: a decided record's crop and
//!   embedding for `thumbnail_days`; a face nobody decided about for `undecided_days`, after
//!   which it is set aside as rejected; the enrolment photos and templates of a student who
//!   left every class, `leaver_days` after they left. What is left of a record (who, where,
//!   when, the decision) goes after `record_days`.
//! - **Visitors** signed in at reception are kept `visitor_days` after their visit began, and
//!   so are pupils signed out there during the day (`crate::sign_outs`).
//! - **Alerts of pupils missing from lessons** and reminders of registers not taken
//!   (`crate::missing`) go with the records they were made from, after `record_days`.
//! - **Staff's comings and goings** are kept `staff_log_days`.
//! - **Notices to families** (each message, the address it went to, the family's reply) are
//!   kept `notice_days` after the day of the absence; the register keeps the code it gave.
//! - **A guardian's own account** is kept while it has a child to see: once no student has a
//!   guardian with parental responsibility at its address (removed, their address changed, the
//!   student erased), the next pass deletes it and ends its sign-ins; the audit log keeps who.
//!
//! Erasing a student (`rollcall_hub::http`, `DELETE /students/{id}`) deletes their faces at once:
//! templates, enrolment photos, the records that are their face, held-back records naming
//! them; door units drop them at the next gallery push. Their register entries stay.

use chrono::Months;
use rollcall_shared::UnixMillis;
use serde_json::json;

use crate::attendance::Rules;
use crate::settings::RetentionConfig;
use rollcall_store::audit::{self, Change};
use rollcall_store::records::Status;
use rollcall_store::{
    Sql, StoreError, activities, idempotency, mis, missing, notices, quarantine, records, register,
    school, sign_outs, signins, staff, strangers, users, visitors,
};

const DAY_MS: i64 = 86_400_000;
/// Days the `Idempotency-Key` of a change is kept: longer than a phone stays offline.
pub const SENT_KEY_DAYS: u32 = 14;
/// Who rejected a face nobody decided about in time, as the review records it.
const EXPIRED_BY: &str = "retention";
/// What a face nobody decided about in time becomes: it counts for nobody.
const EXPIRED_AS: Status = Status::Rejected;

/// What one pass deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Decided records whose crop and embedding went.
    pub faces: usize,
    /// Undecided records set aside.
    pub undecided: usize,
    /// Templates and enrolment photos of students who left.
    pub leavers_templates: usize,
    /// Whole records, held-back ones included, the alerts of missing pupils made from them,
    /// and the one-off registers (trips, clubs) of those days.
    pub records: usize,
    /// Closed sessions past the register's retention.
    pub register_sessions: usize,
    /// Pupil-days written back to the MIS, kept as long as the register.
    pub mis_writes: usize,
    /// Visits signed in at reception, and pupils signed out there, past their retention.
    pub visits: usize,
    pub staff_entries: usize,
    /// Notices to families past their retention.
    pub notices: usize,
    /// Guardians' accounts left without a child to see.
    pub guardian_accounts: usize,
    /// Keys of changes sent ([`SENT_KEY_DAYS`] old): a phone sends its queue within days.
    pub sent_keys: usize,
}

impl Purged {
    pub fn is_empty(&self) -> bool {
        *self == Purged::default()
    }
}

/// Applies the policy at `now`, in one transaction the caller commits.
pub fn run(
    conn: &dyn Sql,
    r: &RetentionConfig,
    rules: &Rules,
    now: UnixMillis,
) -> Result<Purged, StoreError> {
    let days_ago = |days: u32| UnixMillis(now.0.saturating_sub(i64::from(days) * DAY_MS));
    let faces_before = days_ago(r.thumbnail_days);
    school::note_leavers(conn, now)?;
    // A dismissed stranger's centre is biometric: it goes with the crops.
    strangers::purge(conn, faces_before)?;
    let register_from = rules
        .local_day(now)
        .checked_sub_months(Months::new(r.register_years.saturating_mul(12)))
        .unwrap_or_default();
    Ok(Purged {
        faces: records::purge_faces(conn, faces_before)?,
        undecided: records::expire_undecided(
            conn,
            days_ago(r.undecided_days),
            EXPIRED_AS,
            now,
            EXPIRED_BY,
        )?,
        leavers_templates: school::purge_leavers_faces(conn, days_ago(r.leaver_days))?,
        records: records::purge(conn, days_ago(r.record_days))?
            + quarantine::purge(conn, days_ago(r.record_days))?
            + missing::purge(conn, rules.local_day(days_ago(r.record_days)))?
            + activities::purge(conn, rules.local_day(days_ago(r.record_days)))?,
        register_sessions: register::purge(conn, register_from)?,
        mis_writes: mis::purge(conn, register_from)?,
        visits: visitors::purge(conn, days_ago(r.visitor_days))?
            + sign_outs::purge(conn, days_ago(r.visitor_days))?,
        staff_entries: staff::purge(conn, days_ago(r.staff_log_days))?,
        notices: notices::purge(conn, rules.local_day(days_ago(r.notice_days)))?,
        guardian_accounts: delete_childless_guardians(conn, now)?,
        sent_keys: idempotency::purge(conn, days_ago(SENT_KEY_DAYS))?,
    })
}

/// Deletes each guardian's account that no longer sees a child (see the module docs).
fn delete_childless_guardians(conn: &dyn Sql, now: UnixMillis) -> Result<usize, StoreError> {
    let childless = users::childless_guardians(conn)?;
    for user in &childless {
        signins::revoke_user(conn, user.id, now)?;
        users::delete(conn, user.id)?;
        let change = Change {
            actor: EXPIRED_BY,
            action: "user.delete",
            target: format!("user:{}", user.id),
            before: Some(json!(user)),
            after: None,
            at: now,
        };
        audit::log(conn, change)?;
    }
    Ok(childless.len())
}

//! What a reviewer does with a stranger's card. The groups are worked out on every read, so
//! an action names the faces it covers: the record ids the reviewer's card showed, under the
//! card's id. A face that joined the group since is left for the next card; one reviewed since
//! makes the action a conflict. Each face is then reviewed as its own record would be
//! (`review::settle`: the same permissions, marks, learning and audit), so adding a
//! stranger's faces to a student counts them as sightings, as reassigning each record would.

use std::collections::BTreeSet;

use rollcall_shared::{ClassId, Decision, Embedding, RecordId, StudentId, UnixMillis};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::input;
use crate::http::people::{classes, students};
use crate::http::request::{Reply, Request};
use crate::http_state::Hub;
use rollcall_school::access;
use rollcall_school::attendance::Rules;
use rollcall_school::consent::{self, ConsentError, Statement};
use rollcall_school::enrol::check_record;
use rollcall_school::principal::Principal;
use rollcall_school::review::{Action, GalleryTarget, Verdict, add_to_gallery, seen, settle};
use rollcall_school::strangers::{Stranger, rules};
use rollcall_store::audit::{self, Change};
use rollcall_store::records::{self, RecordView, Status};
use rollcall_store::school::Student;
use rollcall_store::strangers::{self as stored, Dismissal, Face};
use rollcall_store::{Sql, StoreError};

/// Most of a stranger's crops that become gallery templates when they are enrolled or added
/// to a student: a few clear views, not every morning's.
const TEMPLATES: usize = 3;

/// The faces a card showed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Faces {
    records: Vec<RecordId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    records: Vec<RecordId>,
    student: StudentId,
    /// Also enrol the clearest crops as templates (else only what the learning rules take).
    #[serde(default)]
    add_to_gallery: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enrol {
    records: Vec<RecordId>,
    name: String,
    external_ref: Option<String>,
    class_id: Option<ClassId>,
    /// The parent's written consent: without it no face of the new student is kept.
    consent: Option<Statement>,
}

/// What every action needs from the hub, taken before the write.
struct Ctx {
    who: Principal,
    rules: Rules,
    gate: rollcall_models::quality::QualityGate,
    model: rollcall_shared::ModelId,
    actor: String,
    now: UnixMillis,
}

impl Ctx {
    fn of(hub: &Hub, who: &Principal) -> Ctx {
        Ctx {
            who: who.clone(),
            rules: hub.config.rules(),
            gate: hub.config.faces.gate,
            model: hub.config.gallery.model.clone(),
            actor: who.actor(),
            now: hub.now(),
        }
    }

    fn verdict(&self, action: Action) -> Verdict<'_> {
        Verdict {
            action,
            enrol: false,
            gate: &self.gate,
            model: &self.model,
            note: None,
            pending_only: false,
            actor: &self.actor,
            now: self.now,
        }
    }

    fn audit(
        &self,
        tx: &dyn Sql,
        action: &str,
        card: RecordId,
        after: Value,
    ) -> Result<(), ApiError> {
        let change = Change {
            actor: &self.actor,
            action,
            target: format!("stranger:{card}"),
            before: None,
            after: Some(after),
            at: self.now,
        };
        Ok(audit::log(tx, change)?)
    }
}

/// The faces an action names, checked: at most [`rules::MAX_FACES`], each once, the card's
/// own among them, each a pending Unknown record `who` may see, all of one model.
fn named(
    tx: &dyn Sql,
    ctx: &Ctx,
    card: RecordId,
    ids: &[RecordId],
) -> Result<Vec<RecordView>, ApiError> {
    if ids.is_empty() || ids.len() > rules::MAX_FACES {
        return Err(ApiError::bad(format!(
            "records: 1 to {} record ids",
            rules::MAX_FACES
        )));
    }
    let distinct: BTreeSet<&RecordId> = ids.iter().collect();
    if distinct.len() != ids.len() || !distinct.contains(&card) {
        return Err(ApiError::bad(
            "records: each id once, the card's own among them",
        ));
    }
    let mut out = Vec::new();
    for &id in ids {
        let r = seen(tx, &ctx.who, &ctx.rules, id)?;
        if r.status != Status::Pending || r.decision != Decision::Unknown {
            return Err(ApiError::Conflict(format!(
                "record {id} is no longer a face waiting for review: reload the strangers"
            )));
        }
        out.push(r);
    }
    if out.iter().any(|r| r.model != out[0].model) {
        return Err(ApiError::bad(
            "records: faces of different models are not one person",
        ));
    }
    Ok(out)
}

/// Dismisses the faces: each is rejected, and their centre remembered so the person's next
/// faces are dismissed as they arrive.
pub async fn dismiss(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let card: RecordId = req.id("stranger", "stranger")?;
    let body = req.json::<Faces>()?;
    let ctx = Ctx::of(hub, who);
    let write = move |tx: &dyn Sql| {
        let faces = named(tx, &ctx, card, &body.records)?;
        let mut embeddings = Vec::new();
        for r in &faces {
            embeddings.push(records::embedding(tx, r.id)?);
            settle(tx, &ctx.who, &ctx.rules, r.id, &ctx.verdict(Action::Reject))?;
        }
        let refs: Vec<&[f32]> = embeddings.iter().map(|e| &e[..]).collect();
        let centroid = Embedding::try_from(rules::centroid(&refs))
            .map_err(|wrong| StoreError::Corrupt(format!("centre of {} values", wrong.0)))?;
        let d = Dismissal {
            model: &faces[0].model,
            centroid: &centroid,
            faces: faces.len(),
            by: &ctx.actor,
            at: ctx.now,
        };
        let id = stored::dismiss(tx, &d)?;
        ctx.audit(
            tx,
            "stranger.dismiss",
            card,
            json!({"dismissal": id, "records": faces.len()}),
        )?;
        Ok::<_, ApiError>(json!({"stranger": card, "records": faces.len()}))
    };
    Reply::ok(hub.write(move |tx| write(tx)).await?)
}

/// Adds the faces to a student: each is reassigned to them (and counts as a sighting), the
/// learning rules may take one, and with `add_to_gallery` the clearest crops that pass the
/// enrolment gate become templates.
pub async fn assign(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let card: RecordId = req.id("stranger", "stranger")?;
    let body = req.json::<Assign>()?;
    let ctx = Ctx::of(hub, who);
    let write = move |tx: &dyn Sql| {
        access::student(tx, &ctx.who, body.student)?;
        let faces = named(tx, &ctx, card, &body.records)?;
        let templates = give(tx, &ctx, &faces, body.student, body.add_to_gallery)?;
        let after =
            json!({"student": body.student, "records": faces.len(), "templates": templates});
        ctx.audit(tx, "stranger.assign", card, after.clone())?;
        Ok::<_, ApiError>(after)
    };
    let done = hub.write(move |tx| write(tx)).await?;
    if done["templates"].as_u64().unwrap_or(0) > 0 {
        hub.gallery_changed();
    }
    Reply::ok(done)
}

/// Enrols the stranger as a new student (admins): the student is created (in the class, if
/// one is named), the faces are theirs, and the clearest crops become their templates. At
/// least one crop must pass the enrolment gate, or nothing is created.
pub async fn enrol(hub: &Hub, req: &Request, who: &Principal) -> Result<Reply, ApiError> {
    let card: RecordId = req.id("stranger", "stranger")?;
    let body = req.json::<Enrol>()?;
    let name = input::name("name", &body.name)?;
    let external_ref = match &body.external_ref {
        Some(r) => Some(input::text("external_ref", r, input::MAX_TEXT)?.to_owned()),
        None => None,
    };
    let ctx = Ctx::of(hub, who);
    let today = ctx.rules.local_day(ctx.now);
    let consent = body.consent.clone().map(|c| c.checked(today)).transpose()?;
    let write = move |tx: &dyn Sql| {
        let faces = named(tx, &ctx, card, &body.records)?;
        let student = Student {
            id: StudentId::random(),
            name,
            external_ref,
            created_at: ctx.now,
            consent: rollcall_store::consent::State::NotAsked,
            profile: Default::default(),
        };
        let student = students::put(tx, student, true, &ctx.actor, ctx.now)?;
        if let Some(class) = body.class_id {
            let today = ctx.rules.local_day(ctx.now);
            classes::membership(tx, (class, student.id), true, today, &ctx.actor, ctx.now)?;
        }
        let consent = consent.as_ref().ok_or_else(|| ConsentError::NotGiven {
            name: student.name.clone(),
            state: student.consent,
        })?;
        consent::record(tx, student.id, consent, &ctx.actor, ctx.now)?;
        let templates = give(tx, &ctx, &faces, student.id, true)?;
        if templates == 0 {
            return Err(ApiError::Conflict(
                "none of these crops passes the enrolment quality gate: enrol the student with a photo".into(),
            ));
        }
        let after = json!({"student": student, "records": faces.len(), "templates": templates});
        ctx.audit(tx, "stranger.enrol", card, after.clone())?;
        Ok::<_, ApiError>(after)
    };
    let done = hub.write(move |tx| write(tx)).await?;
    hub.gallery_changed();
    Reply::created(done)
}

/// Reassigns every face to `student`; with `enrol`, adds the clearest crops passing the gate
/// (up to [`TEMPLATES`], less any the learning rules took). Returns how many templates the
/// student gained.
fn give(
    tx: &dyn Sql,
    ctx: &Ctx,
    faces: &[RecordView],
    student: StudentId,
    enrol: bool,
) -> Result<usize, ApiError> {
    let mut learned = BTreeSet::new();
    for r in faces {
        let settled = settle(
            tx,
            &ctx.who,
            &ctx.rules,
            r.id,
            &ctx.verdict(Action::Reassign(student)),
        )?;
        if settled.learned {
            learned.insert(r.id);
        }
    }
    if !enrol {
        return Ok(learned.len());
    }
    let to = GalleryTarget {
        gate: ctx.gate,
        model: ctx.model.clone(),
        student,
    };
    let passing = faces.iter().filter(|r| {
        r.model == ctx.model.as_str()
            && !learned.contains(&r.id)
            && serde_json::from_value(r.quality.clone())
                .is_ok_and(|q| check_record(&ctx.gate, &q).is_ok())
    });
    let chosen = Stranger {
        faces: passing.map(as_face).collect(),
    };
    let best: Vec<RecordId> = chosen
        .best(TEMPLATES.saturating_sub(learned.len()))
        .iter()
        .map(|f| f.id)
        .collect();
    for r in faces.iter().filter(|r| best.contains(&r.id)) {
        add_to_gallery(tx, r, &to, &ctx.actor, ctx.now)?;
    }
    Ok(learned.len() + best.len())
}

/// A record as a face to rank its crop (no embedding needed).
fn as_face(r: &RecordView) -> Face {
    Face {
        id: r.id,
        room: r.room.clone(),
        captured_at: r.captured_at,
        model: r.model.clone(),
        embedding: Embedding::default(),
        quality: r.quality.clone(),
    }
}

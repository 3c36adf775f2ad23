//! Strangers: the faces door units matched to nobody, grouped by person across days (the
//! rules are in [`rules`]) so a teacher sees one card per person, not one per morning. The
//! groups are worked out on every read from the pending Unknown records: nothing but the
//! records says who is in which group. A dismissed stranger is remembered by the centre of
//! their faces, and a new face near it is dismissed as it arrives, so they stop coming back.
//! Who may see and act on which faces is the review's business. The rules' floor: the SQL is
//! `rollcall_store::strangers`, the routes `rollcall_hub::http::register::strangers`.

pub mod rules;

use rollcall_shared::{AttendanceRecord, Decision, Embedding, RecordId, UnixMillis};

use rollcall_store::records::{self, Review, Status};
use rollcall_store::strangers::{self, Face};
use rollcall_store::{Sql, StoreError};

/// Who a face dismissed on arrival was reviewed by.
pub const DISMISSED_BY: &str = "hub:dismissed-stranger";

/// The faces of one person nobody knew, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Stranger {
    pub faces: Vec<Face>,
}

impl Stranger {
    /// The stranger's name on the API: their first face, which stays as later faces join.
    pub fn id(&self) -> Option<RecordId> {
        self.faces
            .iter()
            .min_by_key(|f| (f.captured_at, f.id))
            .map(|f| f.id)
    }

    /// The centre of the stranger's faces.
    pub fn centroid(&self) -> Vec<f32> {
        let refs: Vec<&[f32]> = self.faces.iter().map(|f| &f.embedding[..]).collect();
        rules::centroid(&refs)
    }

    /// Up to `n` faces, the clearest crops first (detector score, then face size).
    pub fn best(&self, n: usize) -> Vec<&Face> {
        let mut faces: Vec<&Face> = self.faces.iter().collect();
        let figure = |f: &Face, k: &str| f.quality[k].as_f64().unwrap_or(0.0);
        faces.sort_by(|a, b| {
            let key = |f: &Face| (figure(f, "detector_score"), figure(f, "face_px"));
            let (ka, kb) = (key(a), key(b));
            kb.0.total_cmp(&ka.0).then(kb.1.total_cmp(&ka.1))
        });
        faces.truncate(n);
        faces
    }
}

/// Groups `faces` (newest first) into strangers, the most recently seen first, leaving out
/// every face near one of the `dismissed` centres (one that arrived as it was dismissed).
pub fn group(faces: Vec<Face>, dismissed: &[Embedding]) -> Vec<Stranger> {
    let faces: Vec<Face> = faces
        .into_iter()
        .filter(|f| !rules::dismissed(&f.embedding, dismissed))
        .take(rules::MAX_FACES)
        .collect();
    let refs: Vec<&[f32]> = faces.iter().map(|f| &f.embedding[..]).collect();
    let groups = rules::clusters(&refs);
    let mut slots: Vec<Option<Face>> = faces.into_iter().map(Some).collect();
    groups
        .into_iter()
        .map(|g| Stranger {
            faces: g.into_iter().filter_map(|i| slots[i].take()).collect(),
        })
        .collect()
}

/// The pending Unknown faces, up to [`rules::MAX_FACES`], newest first.
pub fn faces(conn: &dyn Sql) -> Result<Vec<Face>, StoreError> {
    strangers::pending_unknown(conn, rules::MAX_FACES)
}

/// The centres of the strangers dismissed under each model among `faces`.
pub fn dismissed_for(conn: &dyn Sql, faces: &[Face]) -> Result<Vec<Embedding>, StoreError> {
    let mut models: Vec<&str> = faces.iter().map(|f| f.model.as_str()).collect();
    models.sort_unstable();
    models.dedup();
    let mut out = Vec::new();
    for model in models {
        out.extend(strangers::dismissed(conn, model)?);
    }
    Ok(out)
}

/// Dismisses a just-stored Unknown `record` when it is the face of a dismissed stranger;
/// returns whether it was. Reviewed as rejected, so it counts for nobody and its crop goes
/// with the reviewed crops' retention.
pub fn dismiss_on_arrival(
    tx: &dyn Sql,
    record: &AttendanceRecord,
    now: UnixMillis,
) -> Result<bool, StoreError> {
    if record.decision != Decision::Unknown {
        return Ok(false);
    }
    let centres = strangers::dismissed(tx, record.model.as_str())?;
    if !rules::dismissed(&record.embedding, &centres) {
        return Ok(false);
    }
    let review = Review {
        status: Status::Rejected,
        final_student: None,
        by: DISMISSED_BY,
        at: now,
        note: None,
    };
    records::review(tx, record.id, &review)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn face(n: u8, axis: usize, at: i64, detector: f64) -> Face {
        let mut embedding = Embedding::ZERO;
        embedding[axis] = 1.0;
        embedding[7] = f32::from(n) * 0.01;
        Face {
            id: RecordId(uuid::Uuid::from_bytes([n; 16])),
            room: "Lab 3".into(),
            captured_at: UnixMillis(at),
            model: "m".into(),
            embedding,
            quality: json!({"detector_score": detector, "face_px": 60.0}),
        }
    }

    #[test]
    fn strangers_come_most_recent_first_named_by_their_first_face() {
        let faces = vec![
            face(1, 0, 40, 0.9),
            face(2, 1, 30, 0.9),
            face(3, 0, 20, 0.99),
        ];
        let strangers = group(faces, &[]);
        assert_eq!(strangers.len(), 2);
        assert_eq!(strangers[0].faces.len(), 2);
        assert_eq!(strangers[0].id(), Some(face(3, 0, 0, 0.0).id));
        assert_eq!(strangers[0].best(1)[0].id, face(3, 0, 0, 0.0).id);
        assert_eq!(strangers[1].id(), Some(face(2, 1, 0, 0.0).id));
    }

    #[test]
    fn a_dismissed_strangers_next_face_is_rejected_as_it_arrives_and_nobody_elses() {
        use rollcall_shared::DeviceId;
        // Four values, then zeros.
        let padded = |head: [f32; 4]| {
            let mut e = Embedding::ZERO;
            e[..4].copy_from_slice(&head);
            e
        };
        let conn = rollcall_store::memory();
        let device = DeviceId::random();
        rollcall_store::register_device(&conn, device);
        let d = strangers::Dismissal {
            model: "m",
            centroid: &padded([1.0, 0.0, 0.0, 0.0]),
            faces: 2,
            by: "user:tess",
            at: UnixMillis(1),
        };
        strangers::dismiss(&conn, &d).unwrap();
        let arrive = |embedding: Embedding, decision: Decision| {
            let mut r = rollcall_store::sample_record(decision, 1_790_000_000_000, &[]);
            (r.device, r.embedding) = (device, embedding);
            crate::arrival::store(&conn, &r, UnixMillis(1_790_000_000_000)).unwrap();
            let dismissed = dismiss_on_arrival(&conn, &r, UnixMillis(7)).unwrap();
            (dismissed, records::get(&conn, r.id).unwrap())
        };
        let (yes, seen) = arrive(padded([0.95, 0.1, 0.0, 0.0]), Decision::Unknown);
        assert!(yes);
        assert_eq!(seen.status, Status::Rejected);
        assert_eq!(seen.reviewed_by.as_deref(), Some(DISMISSED_BY));
        let (no, other) = arrive(padded([0.0, 1.0, 0.0, 0.0]), Decision::Unknown);
        assert!(!no);
        assert_eq!(other.status, Status::Pending);
    }

    #[test]
    fn faces_near_a_dismissed_stranger_are_left_out() {
        let faces = vec![face(1, 0, 40, 0.9), face(2, 1, 30, 0.9)];
        let gone =
            Embedding::try_from(group(vec![face(3, 1, 10, 0.9)], &[])[0].centroid()).unwrap();
        let strangers = group(faces, &[gone]);
        assert_eq!(strangers.len(), 1);
        assert_eq!(strangers[0].faces[0].id, face(1, 0, 0, 0.0).id);
    }
}

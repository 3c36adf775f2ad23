use super::*;

fn model() -> ModelId {
    ModelId::new("test-model").unwrap()
}

fn entry(seed: u8, classes: &[ClassId]) -> GalleryEntry {
    GalleryEntry {
        student: StudentId(uuid::Uuid::from_bytes([seed; 16])),
        classes: classes.to_vec(),
        embeddings: vec![Embedding([f32::from(seed); crate::EMBEDDING_DIM])],
    }
}

fn state(version: u64, entries: &[GalleryEntry]) -> GalleryState {
    let mut s = GalleryState::empty(model());
    s.version = GalleryVersion(version);
    s.entries = entries.iter().map(|e| (e.student, e.clone())).collect();
    s
}

#[test]
fn snapshot_replaces_everything() {
    let old = state(3, &[entry(1, &[]), entry(2, &[])]);
    let new = state(7, &[entry(9, &[])]);
    let applied = old.apply(&GalleryUpdate::snapshot(&new)).unwrap();
    assert_eq!(applied, new);
}

#[test]
fn delta_takes_a_device_from_one_version_to_the_next() {
    let class = ClassId::random();
    let v1 = state(1, &[entry(1, &[]), entry(2, &[]), entry(3, &[])]);
    let mut v2 = state(2, &[entry(1, &[]), entry(3, &[class]), entry(4, &[])]);
    v2.timetable = vec![TimetableSlot {
        class,
        weekday: 1,
        start_minute: 540,
        end_minute: 600,
    }];
    let delta = GalleryUpdate::delta(&v1, &v2);
    assert_eq!(delta.removals, vec![entry(2, &[]).student]);
    assert_eq!(
        delta.upserts.len(),
        2,
        "only the changed and the new student travel"
    );
    assert_eq!(v1.apply(&delta).unwrap(), v2);
}

#[test]
fn a_delta_on_the_wrong_base_is_a_gap_that_needs_a_snapshot() {
    let v1 = state(1, &[entry(1, &[])]);
    let v2 = state(2, &[entry(2, &[])]);
    let v3 = state(3, &[entry(3, &[])]);
    let err = v1.apply(&GalleryUpdate::delta(&v2, &v3)).unwrap_err();
    assert_eq!(
        err,
        GalleryError::Gap {
            have: GalleryVersion(1),
            base: GalleryVersion(2)
        }
    );
    assert!(err.needs_full_snapshot());
}

#[test]
fn old_and_replayed_updates_are_stale() {
    let v1 = state(1, &[entry(1, &[])]);
    let v2 = state(2, &[entry(2, &[])]);
    let update = GalleryUpdate::delta(&v1, &v2);
    let applied = v1.apply(&update).unwrap();
    let err = applied.apply(&update).unwrap_err();
    assert!(matches!(err, GalleryError::Stale { .. }));
    assert!(!err.needs_full_snapshot());
}

#[test]
fn a_corrupted_update_is_refused_by_its_digest() {
    let v1 = state(1, &[entry(1, &[])]);
    let v2 = state(2, &[entry(1, &[]), entry(2, &[])]);
    let mut update = GalleryUpdate::delta(&v1, &v2);
    update.upserts[0].embeddings[0].0[0] += 0.5;
    let err = v1.apply(&update).unwrap_err();
    assert_eq!(
        err,
        GalleryError::DigestMismatch {
            version: GalleryVersion(2)
        }
    );
    assert!(err.needs_full_snapshot());
}

#[test]
fn embeddings_of_another_model_are_refused() {
    let v1 = state(1, &[]);
    let mut other = state(2, &[entry(1, &[])]);
    other.model = ModelId::new("other-model").unwrap();
    let err = v1.apply(&GalleryUpdate::snapshot(&other)).unwrap_err();
    assert!(matches!(err, GalleryError::WrongModel { .. }));
}

#[test]
fn invalid_contents_are_refused_before_anything_else() {
    let v1 = state(1, &[]);
    let mut bad = state(2, &[entry(1, &[])]);
    bad.entries.values_mut().next().unwrap().embeddings.clear();
    assert!(matches!(
        v1.apply(&GalleryUpdate::snapshot(&bad)),
        Err(GalleryError::Invalid(_))
    ));
    let slot = TimetableSlot {
        class: ClassId::random(),
        weekday: 8,
        start_minute: 0,
        end_minute: 10,
    };
    assert!(slot.validate().is_err());
}

#[test]
fn slots_cover_their_half_open_window() {
    let slot = TimetableSlot {
        class: ClassId::random(),
        weekday: 2,
        start_minute: 540,
        end_minute: 600,
    };
    assert!(slot.covers(2, 540) && slot.covers(2, 599));
    assert!(!slot.covers(2, 600) && !slot.covers(3, 550));
}

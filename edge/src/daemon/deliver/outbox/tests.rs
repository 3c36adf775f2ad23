use rollcall_shared::Decision;

use super::*;
use crate::daemon::fixtures::record;

const MIB: u64 = 1024 * 1024;

fn outbox(max: u64) -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("edge.db"), crate::daemon::db::test_keys()).unwrap();
    (dir, Outbox::new(db, max))
}

#[test]
fn committed_records_survive_reopening_until_deleted() {
    let (dir, outbox) = outbox(MIB);
    let a = record(Decision::Confident, 0);
    let b = record(Decision::Unknown, 2000);
    assert_eq!(outbox.commit(&a).unwrap(), Committed::Stored);
    assert_eq!(outbox.commit(&b).unwrap(), Committed::Stored);
    assert_eq!(outbox.commit(&a).unwrap(), Committed::Stored, "idempotent");
    drop(outbox);
    let outbox = Outbox::new(
        Db::open(&dir.path().join("edge.db"), crate::daemon::db::test_keys()).unwrap(),
        MIB,
    );
    assert_eq!(outbox.ids().unwrap(), [a.id, b.id]);
    let payload = outbox.payload(b.id).unwrap().unwrap();
    assert_eq!(
        decode(&payload, Limits::FROM_DEVICE).unwrap(),
        Message::Record(b.clone())
    );
    assert_eq!(outbox.delete(&[a.id, RecordId::now_v7()]).unwrap(), 1);
    assert_eq!(outbox.depth().unwrap(), 1);
}

#[test]
fn when_full_old_thumbnails_go_first_then_unknowns_are_refused() {
    let (_dir, outbox) = outbox(MIB);
    let mut with_thumbs = Vec::new();
    while outbox.used_bytes().unwrap() + 24_000 < MIB {
        let r = record(Decision::Uncertain, 20_000);
        outbox.commit(&r).unwrap();
        with_thumbs.push(r.id);
    }
    let newcomer = record(Decision::Unknown, 24_500);
    assert_eq!(outbox.commit(&newcomer).unwrap(), Committed::Stored);
    let oldest = outbox.payload(with_thumbs[0]).unwrap().unwrap();
    let Message::Record(oldest) = decode(&oldest, Limits::FROM_DEVICE).unwrap() else {
        panic!()
    };
    assert!(
        oldest.thumbnail.is_none(),
        "the oldest thumbnail was dropped"
    );
    let newest = outbox.payload(newcomer.id).unwrap().unwrap();
    assert!(newest.len() > 20_000, "the new record kept its thumbnail");
    assert!(outbox.used_bytes().unwrap() <= MIB);
    assert!(outbox.stats.thumbnails_dropped.load(Ordering::Relaxed) >= 1);
}

#[test]
fn with_no_thumbnails_left_unknowns_are_refused_but_the_register_is_kept() {
    let (_dir, outbox) = outbox(MIB);
    let filler = |_| record(Decision::Unknown, 0);
    let len = encode(&Message::Record(filler(())), Limits::FROM_DEVICE)
        .unwrap()
        .len() as u64;
    while outbox.used_bytes().unwrap() + len <= MIB {
        assert_eq!(outbox.commit(&filler(())).unwrap(), Committed::Stored);
    }
    let depth = outbox.depth().unwrap();
    let unknown = record(Decision::Unknown, 5000);
    assert_eq!(outbox.commit(&unknown).unwrap(), Committed::Refused);
    let confident = record(Decision::Confident, 0);
    assert_eq!(
        outbox.commit(&confident).unwrap(),
        Committed::StoredOverBudget
    );
    assert_eq!(outbox.depth().unwrap(), depth + 1);
    assert_eq!(outbox.stats.refused_unknown.load(Ordering::Relaxed), 1);
    assert_eq!(outbox.stats.over_budget.load(Ordering::Relaxed), 1);
}

#[test]
fn thumbnails_expire_by_age() {
    let (_dir, outbox) = outbox(MIB);
    let mut old = record(Decision::Unknown, 3000);
    old.captured_at = UnixMillis(1_000);
    let fresh = record(Decision::Unknown, 3000);
    outbox.commit(&old).unwrap();
    outbox.commit(&fresh).unwrap();
    assert_eq!(outbox.expire_thumbnails(UnixMillis(2_000)).unwrap(), 1);
    assert!(outbox.payload(old.id).unwrap().unwrap().len() < 3000);
    assert!(outbox.payload(fresh.id).unwrap().unwrap().len() > 3000);
}

#[test]
fn at_a_full_disk_records_are_refused_and_those_held_kept_and_deleted() {
    let (_dir, outbox) = outbox(MIB);
    let held = record(Decision::Confident, 0);
    assert_eq!(outbox.commit(&held).unwrap(), Committed::Stored);
    // A reserve larger than any disk: every new record would eat into it.
    let outbox = outbox.with_disk_reserve(u64::MAX / 2);
    let refused = record(Decision::Confident, 0);
    assert_eq!(outbox.commit(&refused).unwrap(), Committed::DiskFull);
    assert_eq!(
        outbox.ids().unwrap(),
        [held.id],
        "nothing lost, nothing added"
    );
    assert_eq!(outbox.stats.refused_disk_full.load(Ordering::Relaxed), 1);
    assert_eq!(
        outbox.delete(&[held.id]).unwrap(),
        1,
        "the reserve is for deleting"
    );
    let outbox = outbox.with_disk_reserve(0);
    assert_eq!(outbox.commit(&refused).unwrap(), Committed::Stored);
}

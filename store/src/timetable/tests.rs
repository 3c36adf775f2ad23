//! The timetable and the calendar on both engines.

use chrono::NaiveDate;
use rollcall_shared::{ClassId, UnixMillis};
use uuid::Uuid;

use super::*;
use crate::db::Db;
use crate::engines::each;
use crate::error::StoreError;
use crate::school::{self, Class};
use crate::sql::Sql;

fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> Result<T, StoreError> {
    db.write_blocking(f)
}

fn read<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
    db.read_blocking(f).unwrap()
}

fn day(d: &str) -> NaiveDate {
    d.parse().unwrap()
}

/// A class named `name`, stored.
pub(crate) fn new_class(sql: &dyn Sql, name: &str) -> ClassId {
    let id = ClassId::random();
    let class = Class {
        id,
        name: name.into(),
        teacher_id: None,
        created_at: UnixMillis(0),
        code: None,
    };
    school::insert_class(sql, &class).unwrap();
    id
}

/// A slot of `class` in `room` on `weekday` at `start_minute`, for an hour, with no end.
pub(crate) fn new_slot(class: ClassId, room: &str, weekday: u8, start_minute: u16) -> Slot {
    Slot {
        id: Uuid::now_v7(),
        class_id: class,
        room: room.into(),
        weekday,
        start_minute,
        end_minute: start_minute + 60,
        valid_from: None,
        valid_until: None,
    }
}

#[test]
fn slots_list_by_weekday_start_and_room_and_filter_by_room_class_and_day() {
    each(|db| {
        let (a, b) = write(db, |sql| Ok((new_class(sql, "7A"), new_class(sql, "7B")))).unwrap();
        let late = new_slot(a, "Lab 3", 1, 600);
        let early = Slot {
            valid_from: Some(day("2026-09-01")),
            valid_until: Some(day("2026-10-31")),
            ..new_slot(b, "Lab 3", 1, 540)
        };
        let tuesday = new_slot(a, "Lab 1", 2, 500);
        write(db, |sql| {
            [&late, &early, &tuesday]
                .into_iter()
                .try_for_each(|s| insert_slot(sql, s))
        })
        .unwrap();
        let all = read(db, all_slots);
        assert_eq!(all, [early.clone(), late.clone(), tuesday.clone()]);
        let lab3 = |d| read(db, |sql| slots_in_room(sql, "Lab 3", day(d)));
        assert_eq!(lab3("2026-10-31"), [early.clone(), late.clone()]);
        assert_eq!(lab3("2026-11-01"), std::slice::from_ref(&late));
        let of_a = read(db, |sql| slots_of_class(sql, a));
        assert_eq!(of_a, [late.clone(), tuesday.clone()]);
        assert_eq!(read(db, |sql| slot(sql, early.id)), early);
        let missing = db.read_blocking(|sql| slot(sql, Uuid::now_v7()));
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
        assert!(read(db, |sql| slots_of_class(sql, ClassId::random())).is_empty());
    });
}

#[test]
fn a_slot_changes_ends_splits_and_goes() {
    each(|db| {
        let class = write(db, |sql| Ok(new_class(sql, "7A"))).unwrap();
        let old = new_slot(class, "Lab 3", 1, 540);
        write(db, |sql| insert_slot(sql, &old)).unwrap();
        let moved = Slot {
            room: "Lab 4".into(),
            ..old.clone()
        };
        write(db, |sql| update_slot(sql, &moved)).unwrap();
        assert_eq!(read(db, |sql| slot(sql, old.id)), moved);
        let new = Slot {
            id: Uuid::now_v7(),
            valid_from: Some(day("2026-11-02")),
            ..moved.clone()
        };
        write(db, |sql| split_slot(sql, old.id, &new)).unwrap();
        let ended = read(db, |sql| slot(sql, old.id));
        assert_eq!(ended.valid_until, Some(day("2026-11-01")));
        assert_eq!(read(db, all_slots), [ended, new.clone()]);
        let gone = Uuid::now_v7();
        let e = write(db, |sql| end_slot(sql, gone, day("2026-11-01"))).unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");
        let e = write(db, |sql| update_slot(sql, &new_slot(class, "x", 1, 0))).unwrap_err();
        assert!(matches!(e, StoreError::NotFound(_)), "{e}");
        write(db, |sql| delete_slot(sql, old.id)).unwrap();
        assert_eq!(read(db, all_slots), [new]);
    });
}

#[test]
fn terms_are_kept_in_order_and_their_ids_are_unique() {
    each(|db| {
        let new_term = |name: &str, first: &str, last: &str| Term {
            id: Uuid::now_v7(),
            name: name.into(),
            first_day: day(first),
            last_day: day(last),
        };
        let spring = new_term("Spring", "2027-01-04", "2027-03-26");
        let autumn = new_term("Autumn", "2026-09-01", "2026-12-18");
        write(db, |sql| {
            insert_term(sql, &spring)?;
            insert_term(sql, &autumn)
        })
        .unwrap();
        let e = write(db, |sql| insert_term(sql, &spring)).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        assert_eq!(read(db, terms), [autumn.clone(), spring.clone()]);
        let renamed = Term {
            name: "Lent".into(),
            ..spring.clone()
        };
        write(db, |sql| update_term(sql, &renamed)).unwrap();
        assert_eq!(read(db, |sql| term(sql, spring.id)), renamed);
        write(db, |sql| delete_term(sql, autumn.id)).unwrap();
        for e in [
            write(db, |sql| delete_term(sql, autumn.id)).unwrap_err(),
            write(db, |sql| update_term(sql, &autumn)).unwrap_err(),
            db.read_blocking(|sql| term(sql, autumn.id)).unwrap_err(),
        ] {
            assert!(matches!(e, StoreError::NotFound("term")), "{e}");
        }
        assert_eq!(read(db, terms), [renamed]);
    });
}

#[test]
fn one_holiday_a_day() {
    each(|db| {
        let new_holiday = |d: &str, name: &str| Holiday {
            day: day(d),
            name: name.into(),
        };
        let boxing = new_holiday("2026-12-26", "Boxing Day");
        let christmas = new_holiday("2026-12-25", "Christmas");
        write(db, |sql| {
            insert_holiday(sql, &boxing)?;
            insert_holiday(sql, &christmas)
        })
        .unwrap();
        let again = new_holiday("2026-12-25", "again");
        let e = write(db, |sql| insert_holiday(sql, &again)).unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        assert_eq!(read(db, holidays), [christmas.clone(), boxing.clone()]);
        write(db, |sql| update_holiday(sql, &again)).unwrap();
        assert_eq!(read(db, |sql| holiday(sql, christmas.day)), again);
        write(db, |sql| delete_holiday(sql, christmas.day)).unwrap();
        let e = write(db, |sql| delete_holiday(sql, christmas.day)).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("holiday")), "{e}");
        let e = write(db, |sql| update_holiday(sql, &again)).unwrap_err();
        assert!(matches!(e, StoreError::NotFound("holiday")), "{e}");
        assert_eq!(read(db, holidays), [boxing]);
    });
}

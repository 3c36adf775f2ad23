//! Teachers' overrides on both engines.

use super::*;
use crate::db::Db;
use crate::engines::each;
use crate::school::tests::new_student;
use crate::sql::Sql;
use crate::timetable::insert_slot;
use crate::timetable::tests::{new_class, new_slot};

fn write<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
    db.write_blocking(f).unwrap()
}

fn read<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
    db.read_blocking(f).unwrap()
}

fn excused(student: StudentId, reason: &str, at: i64) -> Override {
    Override {
        student,
        mark: Mark::Excused,
        reason: reason.into(),
        set_by: "teacher".into(),
        set_at: UnixMillis(at),
        code: None,
    }
}

#[test]
fn an_override_is_set_replaced_listed_and_cleared() {
    each(|db| {
        let day: NaiveDate = "2026-11-24".parse().unwrap();
        let (slot, ada, bo) = write(db, |sql| {
            let slot = new_slot(new_class(sql, "7A"), "Lab 3", 2, 540);
            insert_slot(sql, &slot)?;
            Ok((slot.id, new_student(sql, "Ada"), new_student(sql, "Bo")))
        });
        let first = excused(ada, "dentist", 1);
        let second = Override {
            mark: Mark::Present,
            ..excused(ada, "was in the library", 2)
        };
        let other = Override {
            code: Some("I".into()),
            ..excused(bo, "ill", 3)
        };
        write(db, |sql| {
            set(sql, slot, day, &first)?;
            set(sql, slot, day, &second)?;
            set(sql, slot, day, &other)
        });
        assert_eq!(
            read(db, |sql| get(sql, slot, day, ada)),
            Some(second.clone())
        );
        let mut all = read(db, |sql| for_session(sql, slot, day));
        all.sort_by_key(|o| o.set_at);
        assert_eq!(all, [second, other.clone()]);
        let next_day = day.succ_opt().unwrap();
        assert!(read(db, |sql| for_session(sql, slot, next_day)).is_empty());
        write(db, |sql| clear(sql, slot, day, ada));
        assert_eq!(read(db, |sql| get(sql, slot, day, ada)), None);
        assert_eq!(read(db, |sql| for_session(sql, slot, day)), [other]);
    });
}

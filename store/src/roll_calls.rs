//! Emergency roll calls, kept as the record of each drill or evacuation: who was expected at
//! the assembly point when it started (students' names, classes and rooms as they were then;
//! the visitors signed in), and who was ticked off, when and by whom. Plain reads and writes;
//! who is expected is `crate::roll_call`.

use chrono::NaiveDate;
use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO roll_calls (id, kind, started_at, started_by)
    VALUES (?1, ?2, ?3, ?4)";
const INSERT_PERSON: &str = "INSERT INTO roll_call_people (roll_call_id, student_id,
    student_name, class_name, room, last_seen_at, expected) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
    ON CONFLICT (roll_call_id, student_id) DO NOTHING";
const SELECT: &str = "SELECT id, kind, started_at, started_by, ended_at, ended_by,
    (SELECT count(*) FROM roll_call_people p WHERE p.roll_call_id = r.id) AS people,
    (SELECT count(*) FROM roll_call_people p WHERE p.roll_call_id = r.id
        AND p.accounted_at IS NOT NULL) AS accounted,
    (SELECT count(*) FROM roll_call_visitors v WHERE v.roll_call_id = r.id) AS visitors,
    (SELECT count(*) FROM roll_call_visitors v WHERE v.roll_call_id = r.id
        AND v.accounted_at IS NOT NULL) AS visitors_accounted,
    (SELECT count(*) FROM roll_call_staff m WHERE m.roll_call_id = r.id) AS staff,
    (SELECT count(*) FROM roll_call_staff m WHERE m.roll_call_id = r.id
        AND m.accounted_at IS NOT NULL) AS staff_accounted
    FROM roll_calls r";
const STAFF: &str = "SELECT s.id, s.name, s.code, s.department, l.expected, l.accounted_at,
    l.accounted_by FROM roll_call_staff l JOIN staff s ON s.id = l.staff_id
    WHERE l.roll_call_id = ?1 ORDER BY s.name, s.id";
const VISITORS: &str = "SELECT v.id, v.name, v.organisation, v.visiting, v.badge, v.signed_in_at,
    v.signed_out_at, l.expected, l.accounted_at, l.accounted_by
    FROM roll_call_visitors l JOIN visitors v ON v.id = l.visitor_id
    WHERE l.roll_call_id = ?1 ORDER BY v.name, v.id";
const PEOPLE: &str = "SELECT student_id, student_name, class_name, room, last_seen_at,
    expected, accounted_at, accounted_by FROM roll_call_people WHERE roll_call_id = ?1
    ORDER BY class_name, student_name, student_id";
const ACCOUNT: &str = "UPDATE roll_call_people SET accounted_at = ?3, accounted_by = ?4
    WHERE roll_call_id = ?1 AND student_id = ?2";
const END: &str = "UPDATE roll_calls SET ended_at = ?2, ended_by = ?3
    WHERE id = ?1 AND ended_at IS NULL";
// Today's register, as far as it goes: a teacher's mark in an open session, or a closed
// entry whose code in force counts as there (?2, ?3: the present and late marks).
const THERE_BY_REGISTER: &str = "SELECT student_id FROM marks WHERE day = ?1 AND mark IN (?2, ?3)
    UNION
    SELECT e.student_id FROM register_entries e
    JOIN attendance_codes c ON c.code = coalesce(
        (SELECT a.code FROM register_amendments a WHERE a.slot_id = e.slot_id AND a.day = e.day
            AND a.student_id = e.student_id ORDER BY a.id DESC LIMIT 1),
        e.code)
    WHERE e.day = ?1 AND c.mark IN (?2, ?3)";
const MEMBERSHIPS: &str = "SELECT m.student_id, m.class_id, c.name FROM class_members m
    JOIN classes c ON c.id = m.class_id ORDER BY c.name";

/// Why a roll call was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A practice: kept as the record of the drill.
    Drill,
    /// A real evacuation.
    Emergency,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Drill => "drill",
            Kind::Emergency => "emergency",
        }
    }
}

/// A roll call with its counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RollCall {
    pub id: Uuid,
    pub kind: Kind,
    pub started_at: UnixMillis,
    pub started_by: String,
    pub ended_at: Option<UnixMillis>,
    pub ended_by: Option<String>,
    /// Everyone on its list.
    pub people: u32,
    /// How many were ticked off.
    pub accounted: u32,
    /// Visitors on its list.
    pub visitors: u32,
    /// How many of them were ticked off.
    pub visitors_accounted: u32,
    /// Staff on its list.
    pub staff: u32,
    /// How many of them were ticked off.
    pub staff_accounted: u32,
}

/// A member of staff on a roll call's list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StaffListed {
    pub staff: Uuid,
    pub name: String,
    pub code: String,
    pub department: Option<String>,
    /// Signed in (or seen coming in) when it started; `false`: ticked off though nothing said
    /// they were in.
    pub expected: bool,
    pub accounted_at: Option<UnixMillis>,
    pub accounted_by: Option<String>,
}

/// A visitor on a roll call's list (as the visitor log has them).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VisitorListed {
    pub visitor: Uuid,
    pub name: String,
    pub organisation: Option<String>,
    /// Whom they came to see.
    pub visiting: String,
    pub badge: String,
    pub signed_in_at: UnixMillis,
    pub signed_out_at: Option<UnixMillis>,
    /// Signed in when it started; `false`: ticked off though they signed in later.
    pub expected: bool,
    pub accounted_at: Option<UnixMillis>,
    pub accounted_by: Option<String>,
}

/// One student on a roll call's list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Person {
    pub student: StudentId,
    pub name: String,
    /// The class of the lesson they were in when it started, else their first class.
    pub class_name: String,
    /// Where a door or a class photo last saw them, when one did.
    pub room: Option<String>,
    pub last_seen_at: Option<UnixMillis>,
    /// On site when it started; `false`: ticked off at the assembly point though nothing said
    /// they were in.
    pub expected: bool,
    pub accounted_at: Option<UnixMillis>,
    pub accounted_by: Option<String>,
}

fn roll_call(r: &Row) -> ReadResult<RollCall> {
    let kind: String = r.get("kind")?;
    Ok(RollCall {
        id: id_col(r, "id")?,
        kind: match kind.as_str() {
            "emergency" => Kind::Emergency,
            _ => Kind::Drill,
        },
        started_at: r.get("started_at")?,
        started_by: r.get("started_by")?,
        ended_at: r.get("ended_at")?,
        ended_by: r.get("ended_by")?,
        people: count(r, "people")?,
        accounted: count(r, "accounted")?,
        visitors: count(r, "visitors")?,
        visitors_accounted: count(r, "visitors_accounted")?,
        staff: count(r, "staff")?,
        staff_accounted: count(r, "staff_accounted")?,
    })
}

fn count(r: &Row, column: &str) -> ReadResult<u32> {
    Ok(r.get::<i64>(column)?.clamp(0, i64::from(u32::MAX)) as u32)
}

fn person(r: &Row) -> ReadResult<Person> {
    Ok(Person {
        student: id_col(r, "student_id")?,
        name: r.get("student_name")?,
        class_name: r.get("class_name")?,
        room: r.get("room")?,
        last_seen_at: r.get("last_seen_at")?,
        expected: r.get("expected")?,
        accounted_at: r.get("accounted_at")?,
        accounted_by: r.get("accounted_by")?,
    })
}

/// Starts a roll call of `people` (all expected).
pub fn start(sql: &dyn Sql, call: &RollCall, people: &[Person]) -> Result<(), StoreError> {
    let p = params![
        call.id.to_string(),
        call.kind.as_str(),
        call.started_at,
        call.started_by
    ];
    sql.execute(INSERT, p)?;
    for person in people {
        add(sql, call.id, person)?;
    }
    Ok(())
}

/// Puts `person` on the list of roll call `id` (nothing if they are on it already).
pub fn add(sql: &dyn Sql, id: Uuid, person: &Person) -> Result<(), StoreError> {
    let p = params![
        id.to_string(),
        person.student.to_string(),
        person.name,
        person.class_name,
        person.room,
        person.last_seen_at,
        person.expected
    ];
    sql.execute(INSERT_PERSON, p)?;
    Ok(())
}

/// Ticks `student` off (`at` and `by`), or back (`None`).
pub fn account(
    sql: &dyn Sql,
    id: Uuid,
    student: StudentId,
    ticked: Option<(UnixMillis, &str)>,
) -> Result<(), StoreError> {
    let (at, by) = ticked.unzip();
    let p = params![id.to_string(), student.to_string(), at, by];
    match sql.execute(ACCOUNT, p)? {
        0 => Err(StoreError::NotFound("student on this roll call")),
        _ => Ok(()),
    }
}

/// The people listed beside the students, each group in a table of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Visitors,
    Staff,
}

impl Group {
    /// Its table, and the column naming one of its people.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Group::Visitors => ("roll_call_visitors", "visitor_id"),
            Group::Staff => ("roll_call_staff", "staff_id"),
        }
    }

    fn listed(self) -> &'static str {
        match self {
            Group::Visitors => "visitor on this roll call",
            Group::Staff => "member of staff on this roll call",
        }
    }
}

/// Puts `person` of `group` on the list of roll call `id` (nothing if they are on it already).
pub fn add_to(
    sql: &dyn Sql,
    group: Group,
    id: Uuid,
    person: Uuid,
    expected: bool,
) -> Result<(), StoreError> {
    let (table, column) = group.table();
    let insert = format!(
        "INSERT INTO {table} (roll_call_id, {column}, expected) VALUES (?1, ?2, ?3)
        ON CONFLICT (roll_call_id, {column}) DO NOTHING"
    );
    sql.execute(
        &insert,
        params![id.to_string(), person.to_string(), expected],
    )?;
    Ok(())
}

/// Ticks `person` of `group` off (`at` and `by`), or back (`None`).
pub fn account_in(
    sql: &dyn Sql,
    group: Group,
    id: Uuid,
    person: Uuid,
    ticked: Option<(UnixMillis, &str)>,
) -> Result<(), StoreError> {
    let (table, column) = group.table();
    let update = format!(
        "UPDATE {table} SET accounted_at = ?3, accounted_by = ?4
        WHERE roll_call_id = ?1 AND {column} = ?2"
    );
    let (at, by) = ticked.unzip();
    match sql.execute(&update, params![id.to_string(), person.to_string(), at, by])? {
        0 => Err(StoreError::NotFound(group.listed())),
        _ => Ok(()),
    }
}

/// The visitors on roll call `id`'s list, by name.
pub fn visitors(sql: &dyn Sql, id: Uuid) -> Result<Vec<VisitorListed>, StoreError> {
    let rows = sql.query_map(VISITORS, params![id.to_string()], |r| {
        Ok(VisitorListed {
            visitor: id_col(r, "id")?,
            name: r.get("name")?,
            organisation: r.get("organisation")?,
            visiting: r.get("visiting")?,
            badge: r.get("badge")?,
            signed_in_at: r.get("signed_in_at")?,
            signed_out_at: r.get("signed_out_at")?,
            expected: r.get("expected")?,
            accounted_at: r.get("accounted_at")?,
            accounted_by: r.get("accounted_by")?,
        })
    })?;
    readable(rows, "roll call's visitor")
}

/// The staff on roll call `id`'s list, by name.
pub fn staff(sql: &dyn Sql, id: Uuid) -> Result<Vec<StaffListed>, StoreError> {
    let rows = sql.query_map(STAFF, params![id.to_string()], |r| {
        Ok(StaffListed {
            staff: id_col(r, "id")?,
            name: r.get("name")?,
            code: r.get("code")?,
            department: r.get("department")?,
            expected: r.get("expected")?,
            accounted_at: r.get("accounted_at")?,
            accounted_by: r.get("accounted_by")?,
        })
    })?;
    readable(rows, "roll call's member of staff")
}

/// Ends roll call `id`; `false` when it had ended already.
pub fn end(sql: &dyn Sql, id: Uuid, at: UnixMillis, by: &str) -> Result<bool, StoreError> {
    Ok(sql.execute(END, params![id.to_string(), at, by])? == 1)
}

pub fn get(sql: &dyn Sql, id: Uuid) -> Result<RollCall, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_opt(&query, params![id.to_string()], roll_call)?
        .ok_or(StoreError::NotFound("roll call"))
}

/// The newest `limit` roll calls, newest first.
pub fn list(sql: &dyn Sql, limit: u32) -> Result<Vec<RollCall>, StoreError> {
    let query = format!("{SELECT} ORDER BY started_at DESC, id LIMIT ?1");
    let rows = sql.query_map(&query, params![limit], roll_call)?;
    readable(rows, "roll call")
}

/// The roll call under way, if one is.
pub fn current(sql: &dyn Sql) -> Result<Option<RollCall>, StoreError> {
    let query = format!("{SELECT} WHERE ended_at IS NULL ORDER BY started_at DESC LIMIT 1");
    sql.query_opt(&query, &[], roll_call)
}

/// Everyone on roll call `id`'s list, by class then name.
pub fn people(sql: &dyn Sql, id: Uuid) -> Result<Vec<Person>, StoreError> {
    let rows = sql.query_map(PEOPLE, params![id.to_string()], person)?;
    readable(rows, "roll call's student")
}

/// The students today's register has there on `day` so far: a teacher's Present or Late in
/// an open session, or a closed entry whose code in force counts as present or late.
pub fn there_by_register(sql: &dyn Sql, day: NaiveDate) -> Result<Vec<StudentId>, StoreError> {
    let p = params![day.to_string(), "present", "late"];
    let rows = sql.query_map(THERE_BY_REGISTER, p, |r| id_col(r, "student_id"))?;
    readable(rows, "register entry")
}

/// Every class membership `(student, class, class name)`, by class name.
pub fn memberships(sql: &dyn Sql) -> Result<Vec<(StudentId, ClassId, String)>, StoreError> {
    let rows = sql.query_map(MEMBERSHIPS, &[], |r| {
        Ok((
            id_col(r, "student_id")?,
            id_col(r, "class_id")?,
            r.get("name")?,
        ))
    })?;
    readable(rows, "class membership")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::{each, read, write};

    fn someone(name: &str, expected: bool) -> Person {
        Person {
            student: StudentId::random(),
            name: name.into(),
            class_name: "7B".into(),
            room: Some("Lab 3".into()),
            last_seen_at: Some(UnixMillis(5)),
            expected,
            accounted_at: None,
            accounted_by: None,
        }
    }

    #[test]
    fn a_roll_call_keeps_its_list_ticks_and_end() {
        each(|db| {
            let call = RollCall {
                id: Uuid::now_v7(),
                kind: Kind::Drill,
                started_at: UnixMillis(10),
                started_by: "user:tess".into(),
                ended_at: None,
                ended_by: None,
                people: 0,
                accounted: 0,
                visitors: 0,
                visitors_accounted: 0,
                staff: 0,
                staff_accounted: 0,
            };
            let (ada, bo) = (someone("Ada", true), someone("Bo", true));
            write(db, |sql| start(sql, &call, &[ada.clone(), bo.clone()])).unwrap();
            assert_eq!(read(db, current).map(|c| c.id), Some(call.id));
            write(db, |sql| {
                account(sql, call.id, ada.student, Some((UnixMillis(20), "user:t")))
            })
            .unwrap();
            let stranger = StudentId::random();
            let missing = write(db, |sql| account(sql, call.id, stranger, None));
            assert!(matches!(missing, Err(StoreError::NotFound(_))));
            let dee = someone("Dee", false);
            write(db, |sql| add(sql, call.id, &dee)).unwrap();
            write(db, |sql| add(sql, call.id, &dee)).unwrap();
            assert!(write(db, |sql| end(sql, call.id, UnixMillis(30), "user:t")).unwrap());
            assert!(!write(db, |sql| end(sql, call.id, UnixMillis(31), "user:t")).unwrap());
            let kept = read(db, |sql| get(sql, call.id));
            assert_eq!(
                (kept.people, kept.accounted, kept.ended_at),
                (3, 1, Some(UnixMillis(30)))
            );
            let people = read(db, |sql| people(sql, call.id));
            assert_eq!(
                people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
                ["Ada", "Bo", "Dee"]
            );
            assert_eq!(people[0].accounted_at, Some(UnixMillis(20)));
            assert!(!people[2].expected);
            assert_eq!(read(db, current), None);
            assert_eq!(read(db, |sql| list(sql, 10)).len(), 1);
        });
    }

    #[test]
    fn visitors_are_on_the_list_ticked_and_go_with_their_visit() {
        each(|db| {
            let call = RollCall {
                id: Uuid::now_v7(),
                kind: Kind::Emergency,
                started_at: UnixMillis(10),
                started_by: "user:tess".into(),
                ended_at: None,
                ended_by: None,
                people: 0,
                accounted: 0,
                visitors: 0,
                visitors_accounted: 0,
                staff: 0,
                staff_accounted: 0,
            };
            write(db, |sql| start(sql, &call, &[])).unwrap();
            let visit = |name: &str, badge: &str| crate::visitors::Visitor {
                id: Uuid::now_v7(),
                name: name.into(),
                organisation: None,
                visiting: "Mrs Head".into(),
                vehicle: None,
                badge: badge.into(),
                signed_in_at: UnixMillis(5),
                signed_in_by: "user:reception".into(),
                signed_out_at: None,
                signed_out_by: None,
            };
            let (ann, cy) = (visit("Ann Lee", "AAAAAA"), visit("Cy Dee", "CCCCCC"));
            for v in [&ann, &cy] {
                write(db, |sql| crate::visitors::insert(sql, v)).unwrap();
            }
            write(db, |sql| {
                add_to(sql, Group::Visitors, call.id, ann.id, true)
            })
            .unwrap();
            write(db, |sql| {
                add_to(sql, Group::Visitors, call.id, ann.id, false)
            })
            .unwrap();
            write(db, |sql| {
                add_to(sql, Group::Visitors, call.id, cy.id, false)
            })
            .unwrap();
            let tick = Some((UnixMillis(20), "user:t"));
            write(db, |sql| {
                account_in(sql, Group::Visitors, call.id, cy.id, tick)
            })
            .unwrap();
            let nobody = write(db, |sql| {
                account_in(sql, Group::Staff, call.id, Uuid::now_v7(), None)
            });
            assert!(matches!(nobody, Err(StoreError::NotFound(_))));
            let listed = read(db, |sql| visitors(sql, call.id));
            let seen: Vec<_> = listed
                .iter()
                .map(|v| (v.name.as_str(), v.expected, v.accounted_at))
                .collect();
            assert_eq!(
                seen,
                [
                    ("Ann Lee", true, None),
                    ("Cy Dee", false, Some(UnixMillis(20)))
                ]
            );
            let kept = read(db, |sql| get(sql, call.id));
            assert_eq!(
                (kept.people, kept.visitors, kept.visitors_accounted),
                (0, 2, 1)
            );
            write(db, |sql| {
                crate::visitors::sign_out(sql, ann.id, UnixMillis(30), "t")
            })
            .unwrap();
            assert_eq!(
                write(db, |sql| crate::visitors::purge(sql, UnixMillis(6))).unwrap(),
                1
            );
            assert_eq!(
                read(db, |sql| visitors(sql, call.id)).len(),
                1,
                "gone with the visit"
            );
        });
    }
}

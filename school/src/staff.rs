//! Staff: the people who work at the school, counted on site and on the roll call beside the
//! students and visitors.
//!
//! - A member is known by their **personnel code** (unique in the school whatever its case:
//!   `T001` and `t001` are one code, because reception types either), with a name, department,
//!   position, e-mail, phone and whether they are active. Codes that clash from before this
//!   rule ([`clashes`]) are listed until renamed, and signing in by such a code is refused. Each field is checked here where it enters ([`Details::checked`]); the office adds
//!   them one by one or from a CSV file ([`import_csv`]: all rows or none, matched by code).
//! - Their **log** is each coming and going: signed in or out at reception ([`sign`]), or
//!   recognised by a door unit at a gate. Where the newest entry puts them is where they are
//!   ([`on_site`]), whatever its day: one who never signed out last night is shown as still in,
//!   not dropped.
//! - The audit log names a member by id and code, never what the log says of their day.

use rollcall_shared::{Direction, UnixMillis};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::accounts::email_address;
use crate::office::{optional_text, phone_number, text};
use crate::table::{RowError, Table};
use rollcall_store::audit::{self, Change};
use rollcall_store::staff::{self, Entry, NewEntry, Source, StaffMember};
use rollcall_store::{Sql, StoreError};

/// Longest name, department or position, in characters.
pub const MAX_TEXT: usize = 200;
/// Longest personnel code, in characters.
pub const MAX_CODE: usize = 32;
/// Most rows a CSV file of staff may have.
pub const MAX_ROWS: usize = 5_000;
/// The columns of a staff CSV file; only the first two are required.
pub const COLUMNS: [&str; 7] = [
    "personnel_code",
    "name",
    "department",
    "position",
    "email",
    "phone",
    "active",
];

/// Why a change to staff was refused.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// A field is missing or malformed; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Rows of a CSV file that cannot be used; nothing was imported.
    #[error("{}", crate::table::nothing_imported(.0, "file"))]
    Rows(Vec<RowError>),
    /// Signing someone in who is in, or out who is out.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the office gives of a member, as typed.
#[derive(Clone, Debug, Default)]
pub struct Details {
    pub code: String,
    pub name: String,
    pub department: Option<String>,
    pub position: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
}

/// A member's fields, checked: the code trimmed, blank optional fields none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    code: String,
    name: String,
    department: Option<String>,
    position: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    active: bool,
}

impl Details {
    /// Every field checked, or the first that is wrong, named.
    pub fn checked(&self) -> Result<Checked, String> {
        let code = text("personnel_code", &self.code, MAX_CODE)?;
        if code.contains(char::is_whitespace) {
            return Err("personnel_code: no spaces".into());
        }
        Ok(Checked {
            code,
            name: text("name", &self.name, MAX_TEXT)?,
            department: optional("department", self.department.as_deref())?,
            position: optional("position", self.position.as_deref())?,
            email: blank_is_none(self.email.as_deref())
                .map(|e| email_address(e).map_err(|m| format!("email: {m}")))
                .transpose()?,
            phone: blank_is_none(self.phone.as_deref())
                .map(|p| phone_number(p).map_err(|m| format!("phone: {m}")))
                .transpose()?,
            active: self.active,
        })
    }
}

impl Checked {
    /// The personnel code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The member these details make: a new one (`id` new, no external reference) or the
    /// existing one they replace, which keeps its id, external reference and creation time.
    pub fn into_member(self, id: Uuid, created_at: UnixMillis) -> StaffMember {
        StaffMember {
            id,
            code: self.code,
            name: self.name,
            department: self.department,
            position: self.position,
            email: self.email,
            phone: self.phone,
            active: self.active,
            external_ref: None,
            created_at,
        }
    }
}

/// Adds a member.
pub fn create(
    tx: &dyn Sql,
    details: &Details,
    by: &str,
    now: UnixMillis,
) -> Result<StaffMember, StaffError> {
    let member = details
        .checked()
        .map_err(StaffError::Invalid)?
        .into_member(Uuid::now_v7(), now);
    refuse_taken_code(tx, &member)?;
    staff::insert(tx, &member)?;
    log_change(tx, by, "staff.create", &member, now)?;
    Ok(member)
}

/// Replaces member `id`'s details.
pub fn update(
    tx: &dyn Sql,
    id: Uuid,
    details: &Details,
    by: &str,
    now: UnixMillis,
) -> Result<StaffMember, StaffError> {
    let before = staff::get(tx, id)?;
    let member = StaffMember {
        external_ref: before.external_ref,
        ..details
            .checked()
            .map_err(StaffError::Invalid)?
            .into_member(id, before.created_at)
    };
    if !member.code.eq_ignore_ascii_case(&before.code) {
        refuse_taken_code(tx, &member)?;
    }
    staff::update(tx, &member)?;
    log_change(tx, by, "staff.update", &member, now)?;
    Ok(member)
}

/// Deletes member `id`, their log and every face of theirs (gates' copies too).
pub fn delete(tx: &dyn Sql, id: Uuid, by: &str, now: UnixMillis) -> Result<(), StaffError> {
    let member = staff::get(tx, id)?;
    rollcall_store::staff_faces::erase(tx, id)?;
    staff::delete(tx, id)?;
    log_change(tx, by, "staff.delete", &member, now)?;
    Ok(())
}

/// How reception names the member signing.
#[derive(Clone, Debug)]
pub enum Who {
    Id(Uuid),
    /// Their personnel code, as typed (spaces around it ignored, any case).
    Code(String),
}

/// Signs a member in or out by hand at reception. Signing in one who is in, or out one who is
/// out, is refused with where the log has them; an inactive member is not signed in.
pub fn sign(
    tx: &dyn Sql,
    who: &Who,
    direction: Direction,
    by: &str,
    now: UnixMillis,
) -> Result<Entry, StaffError> {
    let member = match who {
        Who::Id(id) => staff::get(tx, *id)?,
        Who::Code(code) => {
            find_code(tx, code)?.ok_or(StoreError::NotFound("member of staff with this code"))?
        }
    };
    let here = staff::latest(tx)?
        .into_iter()
        .find(|e| e.staff == member.id)
        .is_some_and(|e| e.direction == Direction::In);
    match (direction, here) {
        (Direction::Both, _) => {
            return Err(StaffError::Invalid("direction: in or out".into()));
        }
        (Direction::In, true) => {
            return Err(StaffError::Conflict(format!(
                "{} is signed in already",
                member.name
            )));
        }
        (Direction::Out, false) => {
            return Err(StaffError::Conflict(format!(
                "{} is not signed in",
                member.name
            )));
        }
        (Direction::In, false) if !member.active => {
            return Err(StaffError::Conflict(format!(
                "{} is not active: make them active on the Staff page first",
                member.name
            )));
        }
        _ => {}
    }
    let entry = NewEntry {
        staff: member.id,
        at: now,
        direction,
        source: Source::Reception,
        device: None,
        confidence: None,
        recorded_by: Some(by),
    };
    let id = staff::log(tx, &entry)?;
    let action = match direction {
        Direction::In => "staff.sign_in",
        _ => "staff.sign_out",
    };
    audit::log(
        tx,
        Change {
            actor: by,
            action,
            target: format!("staff:{}", member.id),
            before: None,
            after: Some(json!({"entry": id})),
            at: now,
        },
    )?;
    Ok(staff::latest(tx)?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(StoreError::NotFound("staff log entry"))?)
}

/// The member with personnel code `code`, whatever its case; a code that names two people
/// (a clash from before codes were compared whatever their case) names nobody until renamed.
fn find_code(tx: &dyn Sql, code: &str) -> Result<Option<StaffMember>, StaffError> {
    let code = code.trim();
    let mut named: Vec<StaffMember> = staff::list(tx)?
        .into_iter()
        .filter(|m| m.code.eq_ignore_ascii_case(code))
        .collect();
    match named.len() {
        0 | 1 => Ok(named.pop()),
        _ => Err(StaffError::Conflict(format!(
            "personnel code {code} names {}: rename one on the Staff page, then sign in again",
            names(&named)
        ))),
    }
}

/// Refuses `member`'s code when another member has it, whatever its case.
fn refuse_taken_code(tx: &dyn Sql, member: &StaffMember) -> Result<(), StaffError> {
    let taken = staff::list(tx)?
        .into_iter()
        .find(|m| m.id != member.id && m.code.eq_ignore_ascii_case(&member.code));
    match taken {
        Some(m) => Err(StaffError::Conflict(format!(
            "personnel code {} is {}'s ({}): codes are the same whatever their case",
            member.code, m.name, m.code
        ))),
        None => Ok(()),
    }
}

/// The members who share a personnel code but for its case, a group per code (kept from
/// before codes were compared whatever their case; the Staff page and the hub's log list
/// them until one is renamed).
pub fn clashes(tx: &dyn Sql) -> Result<Vec<Vec<StaffMember>>, StoreError> {
    let mut groups: Vec<Vec<StaffMember>> = Vec::new();
    for m in staff::list(tx)? {
        match groups
            .iter_mut()
            .find(|g| g[0].code.eq_ignore_ascii_case(&m.code))
        {
            Some(group) => group.push(m),
            None => groups.push(vec![m]),
        }
    }
    groups.retain(|g| g.len() > 1);
    Ok(groups)
}

/// "Ann Able (T001) and Tom Tate (t001)".
fn names<'a>(members: impl IntoIterator<Item = &'a StaffMember>) -> String {
    let each: Vec<String> = members
        .into_iter()
        .map(|m| format!("{} ({})", m.name, m.code))
        .collect();
    each.join(" and ")
}

/// Where the log last put each member who is in: their newest entry, if it says in.
pub fn on_site(tx: &dyn Sql) -> Result<Vec<Entry>, StoreError> {
    Ok(staff::latest(tx)?
        .into_iter()
        .filter(|e| e.direction == Direction::In)
        .collect())
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Adds or updates the staff of a CSV file ([`COLUMNS`], a header first), matched by
/// personnel code; every row is checked first, and one bad row imports nothing.
pub fn import_csv(
    tx: &dyn Sql,
    text: &str,
    by: &str,
    now: UnixMillis,
) -> Result<Imported, StaffError> {
    let rows = read_csv(text).map_err(StaffError::Rows)?;
    let existing = staff::list(tx)?;
    let mut imported = Imported::default();
    for row in rows {
        // The member with the row's code as written, else the one with it in another case.
        let same: Vec<&StaffMember> = existing
            .iter()
            .filter(|m| m.code.eq_ignore_ascii_case(&row.code))
            .collect();
        let matched = match (same.iter().find(|m| m.code == row.code), &same[..]) {
            (Some(m), _) => Some(*m),
            (None, []) => None,
            (None, [one]) => Some(*one),
            (None, _) => {
                return Err(StaffError::Conflict(format!(
                    "personnel code {} names {}: rename one on the Staff page, then import again",
                    row.code,
                    names(same)
                )));
            }
        };
        match matched {
            Some(m) => {
                let member = StaffMember {
                    external_ref: m.external_ref.clone(),
                    ..row.into_member(m.id, m.created_at)
                };
                if member == *m {
                    imported.unchanged += 1;
                    continue;
                }
                staff::update(tx, &member)?;
                log_change(tx, by, "staff.update", &member, now)?;
                imported.updated += 1;
            }
            None => {
                let member = row.into_member(Uuid::now_v7(), now);
                staff::insert(tx, &member)?;
                log_change(tx, by, "staff.create", &member, now)?;
                imported.created += 1;
            }
        }
    }
    Ok(imported)
}

/// The rows of a staff CSV file, each checked, or every row's error.
fn read_csv(text: &str) -> Result<Vec<Checked>, Vec<RowError>> {
    let table = Table::read_known(
        "staff.csv",
        text.as_bytes(),
        &COLUMNS,
        &COLUMNS[..2],
        MAX_ROWS,
    )?;
    let (mut rows, mut errors) = (Vec::new(), Vec::new());
    for row in table.rows() {
        let field = |column: &str| row.get(column).map(str::to_owned);
        let checked = row.yes_no("active").and_then(|active| {
            Details {
                code: row.raw("personnel_code").to_owned(),
                name: row.raw("name").to_owned(),
                department: field("department"),
                position: field("position"),
                email: field("email"),
                phone: field("phone"),
                active: active.unwrap_or(true),
            }
            .checked()
        });
        match checked {
            Ok(c)
                if rows
                    .iter()
                    .any(|r: &Checked| r.code.eq_ignore_ascii_case(&c.code)) =>
            {
                errors.push(RowError::new(
                    row.at,
                    format!(
                        "personnel_code {} is in the file twice (whatever its case)",
                        c.code
                    ),
                ))
            }
            Ok(c) => rows.push(c),
            Err(why) => errors.push(RowError::new(row.at, why)),
        }
    }
    match errors.is_empty() {
        true => Ok(rows),
        false => Err(errors),
    }
}

fn blank_is_none(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn optional(field: &str, value: Option<&str>) -> Result<Option<String>, String> {
    optional_text(field, value, MAX_TEXT)
}

/// A member in the audit log: their id and code, and whether they are active.
fn log_change(
    tx: &dyn Sql,
    by: &str,
    action: &str,
    m: &StaffMember,
    now: UnixMillis,
) -> Result<(), StoreError> {
    audit::log(
        tx,
        Change {
            actor: by,
            action,
            target: format!("staff:{}", m.id),
            before: None,
            after: Some(json!({"code": m.code, "active": m.active})),
            at: now,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rollcall_store::engines::{each, read};

    fn details(code: &str, name: &str) -> Details {
        Details {
            code: code.into(),
            name: name.into(),
            active: true,
            ..Default::default()
        }
    }

    #[test]
    fn what_the_office_types_is_checked_where_it_enters() {
        let mut d = details(" T-001 ", " Ann Able ");
        d.email = Some("ann@school.example".into());
        d.phone = Some("  ".into());
        let c = d.checked().unwrap();
        assert_eq!(
            (c.code.as_str(), c.name.as_str(), c.phone),
            ("T-001", "Ann Able", None)
        );
        for (bad, field) in [
            (details("", "Ann"), "personnel_code"),
            (details("T 1", "Ann"), "personnel_code"),
            (details(&"x".repeat(33), "Ann"), "personnel_code"),
            (details("T1", &"x".repeat(10 * 1024)), "name"),
            (details("T1", "Ann\u{0}"), "name"),
        ] {
            assert!(bad.checked().unwrap_err().starts_with(field), "{bad:?}");
        }
        let mut d = details("T1", "Ann");
        d.email = Some("not an address".into());
        assert!(d.checked().unwrap_err().starts_with("email:"));
    }

    #[test]
    fn a_file_imports_whole_or_not_at_all_and_again_changes_only_what_changed() {
        each(|db| {
            let file = "personnel_code,name,department,position,email,phone,active\n\
                T001,Ann Able,Science,Teacher,ann@school.example,555-0100,yes\n\
                T002,Bob Baker,,Caretaker,,,no\n";
            let run = |text: &str| {
                db.write_blocking(|tx| import_csv(tx, text, "user:ada", UnixMillis(1)))
            };
            let first = run(file).unwrap();
            assert_eq!((first.created, first.updated), (2, 0));
            let again = run(&file.replace("Caretaker", "Site manager")).unwrap();
            assert_eq!((again.created, again.updated, again.unchanged), (0, 1, 1));
            let bob = read(db, |sql| staff::by_code(sql, "T002")).unwrap();
            assert_eq!(
                (bob.position.as_deref(), bob.active),
                (Some("Site manager"), false)
            );

            let bad = "personnel_code,name,active\nT003,Cy,yes\nT003,Cy Twin,yes\n,No Code,\nT004,Di,maybe\n";
            let Err(StaffError::Rows(rows)) = run(bad) else {
                panic!("refused")
            };
            let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [3, 4, 5], "{rows:?}");
            assert_eq!(read(db, staff::list).len(), 2, "nothing imported");
            let Err(StaffError::Rows(rows)) = run("code,name\nT9,X\n") else {
                panic!("refused")
            };
            assert!(rows[0].message.contains("personnel_code"), "{rows:?}");
            assert_eq!(rows[0].line, 1, "the header's line");

            // A quoted field may hold a line break: each row is still named by its first line.
            let spread = "personnel_code,name,department,active
\
                T5,Eve,\"Science\nand Maths\",yes\nT6,Fay,,maybe\n";
            let Err(StaffError::Rows(rows)) = run(spread) else {
                panic!("refused")
            };
            let found: Vec<(u64, &str)> = rows.iter().map(|r| (r.line, &r.message[..])).collect();
            assert_eq!(
                found,
                [
                    (2, "department: no control characters"),
                    (4, "active: yes or no, not \"maybe\"")
                ]
            );
        });
    }

    #[test]
    fn reception_signs_staff_in_and_out_once_each_way() {
        each(|db| {
            let ann = db
                .write_blocking(|tx| create(tx, &details("T001", "Ann"), "user:a", UnixMillis(1)))
                .unwrap();
            let sign_at = |who: Who, direction, at| {
                db.write_blocking(|tx| sign(tx, &who, direction, "user:r", UnixMillis(at)))
            };
            let entry = sign_at(Who::Code(" t001 ".into()), Direction::In, 10).unwrap();
            assert_eq!((entry.staff, entry.source), (ann.id, Source::Reception));
            let twice = sign_at(Who::Id(ann.id), Direction::In, 11).unwrap_err();
            assert!(twice.to_string().contains("signed in already"), "{twice}");
            assert_eq!(read(db, on_site).len(), 1);
            sign_at(Who::Id(ann.id), Direction::Out, 12).unwrap();
            let out = sign_at(Who::Id(ann.id), Direction::Out, 13).unwrap_err();
            assert!(out.to_string().contains("not signed in"), "{out}");
            assert!(read(db, on_site).is_empty());
            let nobody = sign_at(Who::Code("T999".into()), Direction::In, 14).unwrap_err();
            assert!(matches!(nobody, StaffError::Store(StoreError::NotFound(_))));
            let inactive = Details {
                active: false,
                ..details("T001", "Ann")
            };
            db.write_blocking(|tx| update(tx, ann.id, &inactive, "user:a", UnixMillis(15)))
                .unwrap();
            let refused = sign_at(Who::Id(ann.id), Direction::In, 16).unwrap_err();
            assert!(refused.to_string().contains("not active"), "{refused}");
        });
    }

    #[test]
    fn a_personnel_code_is_one_code_whatever_its_case() {
        each(|db| {
            let add =
                |d: Details| db.write_blocking(|tx| create(tx, &d, "user:ada", UnixMillis(1)));
            let ann = add(details("T001", "Ann Able")).unwrap();
            let refused = add(details("t001", "Tom Tate")).unwrap_err();
            assert!(
                matches!(&refused, StaffError::Conflict(m) if m.contains("Ann Able")),
                "{refused}"
            );
            let bob = add(details("T002", "Bob Baker")).unwrap();
            let renamed = db.write_blocking(|tx| {
                update(
                    tx,
                    bob.id,
                    &details("t001", "Bob Baker"),
                    "user:ada",
                    UnixMillis(2),
                )
            });
            assert!(
                matches!(renamed, Err(StaffError::Conflict(_))),
                "{renamed:?}"
            );
            // Ann's own code in another case is still hers.
            db.write_blocking(|tx| {
                update(
                    tx,
                    ann.id,
                    &details("t001", "Ann Able"),
                    "user:ada",
                    UnixMillis(3),
                )
            })
            .unwrap();
            let file = "personnel_code,name\nT001,Ann Able\nT003,Cy\nt003,Cy Twin\n";
            let Err(StaffError::Rows(rows)) =
                db.write_blocking(|tx| import_csv(tx, file, "user:ada", UnixMillis(4)))
            else {
                panic!("a file with one code twice is refused")
            };
            assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
            let imported = db
                .write_blocking(|tx| {
                    import_csv(
                        tx,
                        "personnel_code,name\nT001,Ann Able\n",
                        "user:ada",
                        UnixMillis(5),
                    )
                })
                .unwrap();
            assert_eq!(
                (imported.created, imported.updated),
                (0, 1),
                "matched whatever its case"
            );

            // Clashes kept from before the rule: listed, and their codes sign nobody in.
            for (code, name) in [("t002", "Tom Tate"), ("Xa9", "Xena"), ("xA9", "Xavier")] {
                let member = details(code, name)
                    .checked()
                    .unwrap()
                    .into_member(Uuid::now_v7(), UnixMillis(6));
                db.write_blocking(|tx| staff::insert(tx, &member)).unwrap();
            }
            let codes: Vec<Vec<String>> = read(db, clashes)
                .into_iter()
                .map(|g| g.into_iter().map(|m| m.code).collect())
                .collect();
            assert_eq!(
                codes,
                [["T002", "t002"], ["xA9", "Xa9"]],
                "each group by name"
            );
            let refused = db
                .write_blocking(|tx| {
                    sign(
                        tx,
                        &Who::Code("T002".into()),
                        Direction::In,
                        "user:r",
                        UnixMillis(7),
                    )
                })
                .unwrap_err();
            assert!(
                matches!(&refused, StaffError::Conflict(m) if m.contains("Bob Baker") && m.contains("Tom Tate")),
                "{refused}"
            );
            let import = |text: &str| {
                db.write_blocking(|tx| import_csv(tx, text, "user:ada", UnixMillis(8)))
            };
            assert!(
                import("personnel_code,name\nt002,Tom T. Tate\n").is_ok(),
                "Tom's code as written"
            );
            let refused = import("personnel_code,name\nXA9,Xena\n").unwrap_err();
            assert!(
                matches!(&refused, StaffError::Conflict(m) if m.contains("Xena") && m.contains("Xavier")),
                "{refused}"
            );
        });
    }
}

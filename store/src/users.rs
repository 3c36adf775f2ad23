//! Users (admins, teachers, and students and guardians with their own account) and their password hashes.
//! Hashing itself lives in `auth::password`; this module only stores the result.

use rollcall_shared::{ClassId, StudentId, UnixMillis};
use serde::{Deserialize, Serialize, Serializer};
use uuid::Uuid;

use super::columns::id_col;
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str =
    "INSERT INTO users (id, username, display_name, role, password_hash, created_at, email,
        student_id)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const SELECT: &str = "SELECT id, username, display_name, role, password_hash, disabled, created_at,
    email, digest, digest_at, default_class, register_reminders, pastoral, student_id FROM users";
const SET_CHOICES: &str = "UPDATE users SET email = ?2, digest = ?3, digest_at = ?4,
    default_class = ?5, register_reminders = ?6 WHERE id = ?1";
const UPDATE_PASSWORD: &str = "UPDATE users SET password_hash = ?2 WHERE id = ?1";
const UPDATE: &str = "UPDATE users SET display_name = ?2, role = ?3, disabled = ?4, email = ?5,
    pastoral = ?6 WHERE id = ?1";
const DELETE: &str = "DELETE FROM users WHERE id = ?1";
/// A deleted teacher's classes keep going without a teacher until an admin names one.
const CLEAR_TEACHER: &str = "UPDATE classes SET teacher_id = NULL WHERE teacher_id = ?1";
const COUNT_ENABLED_ADMINS: &str =
    "SELECT COUNT(*) AS admins FROM users WHERE role = 'admin' AND disabled = 0";
const COUNT: &str = "SELECT COUNT(*) AS users FROM users";
/// Guardians' accounts whose address no student's guardian with parental responsibility has.
const CHILDLESS_GUARDIANS: &str = "WHERE role = 'guardian' AND NOT EXISTS (
    SELECT 1 FROM guardians g WHERE lower(g.email) = lower(users.email) AND g.responsibility = 1)
    ORDER BY username";

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Teacher,
    /// A student seeing their own attendance, and nothing else ([`User::student_id`]).
    Student,
    /// A parent or carer seeing their own children's attendance, and nothing else: the
    /// students whose guardian with parental responsibility has the account's address.
    Guardian,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
            Role::Student => "student",
            Role::Guardian => "guardian",
        }
    }

    /// The school's staff (an admin or a teacher), not a student or a family's account.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Teacher)
    }

    fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "teacher" => Some(Role::Teacher),
            "student" => Some(Role::Student),
            "guardian" => Some(Role::Guardian),
            _ => None,
        }
    }
}

/// A stored user. The hash never leaves the hub: it is skipped when serialised.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: UnixMillis,
    /// Where the e-mail digest goes; checked as an address where it enters (API, CLI).
    pub email: Option<String>,
    /// A teacher an admin lets see the whole school's pupils missing from lessons and its
    /// registers not taken, and hear of them (admins always do).
    pub pastoral: bool,
    #[serde(flatten)]
    pub choices: Choices,
    /// The student a `student` account is (always set for one, never for another role: the
    /// schema's CHECK).
    pub student_id: Option<StudentId>,
}

/// A stored password hash that matches no password: an invited user's until they choose one
/// (not a PHC string, so verifying against it fails).
pub const NO_PASSWORD: &str = "!";

/// What a user chooses for themselves (`PATCH /account`), besides their address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Choices {
    /// They want the daily digest (sent only to an address; on unless they turn it off).
    pub digest: bool,
    /// When their digest goes, minutes after the school's midnight, as "HH:MM" in JSON;
    /// `None`: the school's `[email.digest] at`.
    #[serde(serialize_with = "hhmm")]
    pub digest_at: Option<u16>,
    /// The class their pages open on (the class report).
    pub default_class: Option<ClassId>,
    /// They want an e-mail when a register of theirs is not taken in time (the page always
    /// says so).
    pub register_reminders: bool,
}

impl Default for Choices {
    fn default() -> Self {
        Choices {
            digest: true,
            digest_at: None,
            default_class: None,
            register_reminders: true,
        }
    }
}

fn hhmm<S: Serializer>(minute: &Option<u16>, s: S) -> Result<S::Ok, S::Error> {
    match minute {
        Some(m) => s.serialize_str(&format!("{:02}:{:02}", m / 60, m % 60)),
        None => s.serialize_none(),
    }
}

fn from_row(row: &Row) -> ReadResult<User> {
    let role: String = row.get("role")?;
    Ok(User {
        id: id_col(row, "id")?,
        username: row.get("username")?,
        display_name: row.get("display_name")?,
        role: Role::parse(&role).unwrap_or(Role::Teacher),
        password_hash: row.get("password_hash")?,
        disabled: row.get("disabled")?,
        created_at: row.get("created_at")?,
        email: row.get("email")?,
        choices: Choices {
            digest: row.get("digest")?,
            digest_at: row.get("digest_at")?,
            default_class: match row.get::<Option<String>>("default_class")? {
                Some(_) => Some(id_col(row, "default_class")?),
                None => None,
            },
            register_reminders: row.get("register_reminders")?,
        },
        pastoral: row.get("pastoral")?,
        student_id: match row.get::<Option<String>>("student_id")? {
            Some(_) => Some(id_col(row, "student_id")?),
            None => None,
        },
    })
}

/// Stores what `id` chose for themselves, and their address.
pub fn set_choices(
    sql: &dyn Sql,
    id: Uuid,
    email: Option<&str>,
    choices: &Choices,
) -> Result<(), StoreError> {
    sql.execute(
        SET_CHOICES,
        params![
            id.to_string(),
            email,
            choices.digest,
            choices.digest_at,
            choices.default_class.map(|c| c.to_string()),
            choices.register_reminders,
        ],
    )?;
    Ok(())
}

pub fn insert(sql: &dyn Sql, user: &User) -> Result<(), StoreError> {
    sql.execute(
        INSERT,
        params![
            user.id.to_string(),
            user.username,
            user.display_name,
            user.role.as_str(),
            user.password_hash,
            user.created_at,
            user.email,
            user.student_id.map(|s| s.to_string())
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, "user name"))?;
    Ok(())
}

pub fn list(sql: &dyn Sql) -> Result<Vec<User>, StoreError> {
    let rows = sql.query_map(&format!("{SELECT} ORDER BY username"), &[], from_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn by_username(sql: &dyn Sql, username: &str) -> Result<Option<User>, StoreError> {
    sql.query_opt(
        &format!("{SELECT} WHERE username = ?1"),
        params![username],
        from_row,
    )
}

/// The users whose e-mail address is `email`, whatever its case (addresses are not unique:
/// the caller decides what several mean).
pub fn by_email(sql: &dyn Sql, email: &str) -> Result<Vec<User>, StoreError> {
    let query = format!("{SELECT} WHERE lower(email) = lower(?1) ORDER BY username");
    let rows = sql.query_map(&query, params![email], from_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

/// The guardians' accounts that see no child any more: no student has a guardian with parental
/// responsibility at the account's address (removed, their address changed, the student erased).
pub fn childless_guardians(sql: &dyn Sql) -> Result<Vec<User>, StoreError> {
    let rows = sql.query_map(&format!("{SELECT} {CHILDLESS_GUARDIANS}"), &[], from_row)?;
    Ok(rows.into_iter().collect::<Result<_, _>>()?)
}

pub fn by_id(sql: &dyn Sql, id: Uuid) -> Result<User, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "user", from_row)
}

pub fn set_password(sql: &dyn Sql, id: Uuid, hash: &str) -> Result<(), StoreError> {
    match sql.execute(UPDATE_PASSWORD, params![id.to_string(), hash])? {
        0 => Err(StoreError::NotFound("user")),
        _ => Ok(()),
    }
}

pub fn count(sql: &dyn Sql) -> Result<i64, StoreError> {
    sql.query_one(COUNT, &[], "user count", |r| r.get("users"))
}

/// Stores `user`'s display name, role, disabled flag, e-mail address and pastoral permission.
pub fn update(sql: &dyn Sql, user: &User) -> Result<(), StoreError> {
    let row = params![
        user.id.to_string(),
        user.display_name,
        user.role.as_str(),
        user.disabled,
        user.email,
        user.pastoral
    ];
    match sql.execute(UPDATE, row)? {
        0 => Err(StoreError::NotFound("user")),
        _ => Ok(()),
    }
}

/// Deletes the user; their classes are left without a teacher.
pub fn delete(sql: &dyn Sql, id: Uuid) -> Result<(), StoreError> {
    sql.execute(CLEAR_TEACHER, params![id.to_string()])?;
    match sql.execute(DELETE, params![id.to_string()])? {
        0 => Err(StoreError::NotFound("user")),
        _ => Ok(()),
    }
}

pub fn count_enabled_admins(sql: &dyn Sql) -> Result<i64, StoreError> {
    sql.query_one(COUNT_ENABLED_ADMINS, &[], "admin count", |r| {
        r.get("admins")
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::db::Db;
    use crate::engines::{each, read, write};
    use crate::imports;

    /// Stores a user named `username` with role `role`, for tests of what refers to users.
    pub(crate) fn add(db: &Db, username: &str, role: Role) -> Result<User, StoreError> {
        let user = User {
            id: Uuid::now_v7(),
            username: username.into(),
            display_name: format!("{username} ü"),
            role,
            password_hash: "hash".into(),
            disabled: false,
            created_at: UnixMillis(3),
            email: None,
            pastoral: false,
            choices: Choices::default(),
            student_id: None,
        };
        write(db, |sql| insert(sql, &user))?;
        Ok(user)
    }

    #[test]
    fn a_guardians_account_is_childless_once_no_student_has_her_address_with_responsibility() {
        use crate::guardians::{self, Guardian, tests::guardian};
        each(|db| {
            let ada = write(db, |sql| {
                imports::insert_student(sql, "S1", "Ada", UnixMillis(1))
            })
            .unwrap();
            let account = |name: &str, email: &str| User {
                email: Some(email.into()),
                ..add(db, name, Role::Teacher).unwrap()
            };
            for (name, email) in [("mum", "MUM@home.example"), ("gran", "gran@home.example")] {
                let user = User {
                    role: Role::Guardian,
                    ..account(name, email)
                };
                write(db, |sql| update(sql, &user)).unwrap();
            }
            let childless = || names(&read(db, childless_guardians)).join(" ");
            assert_eq!(childless(), "gran mum");
            let gran_no_say = Guardian {
                responsibility: false,
                ..guardian(2, "Gran")
            };
            let both = [guardian(1, "Mum"), gran_no_say];
            write(db, |sql| guardians::replace(sql, ada, &both)).unwrap();
            assert_eq!(childless(), "gran", "any case; only with responsibility");
            write(db, |sql| crate::school::delete_student(sql, ada)).unwrap();
            assert_eq!(childless(), "gran mum", "the student erased");
        });
    }

    fn names(users: &[User]) -> Vec<&str> {
        users.iter().map(|u| u.username.as_str()).collect()
    }

    #[test]
    fn users_are_stored_found_counted_changed_and_deleted() {
        each(|db| {
            assert_eq!(read(db, count), 0);
            let bea = add(db, "bea", Role::Teacher).unwrap();
            let ada = add(db, "ada", Role::Admin).unwrap();
            let e = add(db, "ada", Role::Teacher).unwrap_err();
            assert!(matches!(e, StoreError::Conflict(_)), "{e}");
            assert_eq!(names(&read(db, list)), ["ada", "bea"]);
            assert_eq!((read(db, count), read(db, count_enabled_admins)), (2, 1));

            let found = read(db, |sql| by_username(sql, "bea")).unwrap();
            assert_eq!(
                (found.id, found.role, found.disabled),
                (bea.id, Role::Teacher, false)
            );
            assert_eq!(found.display_name, "bea ü");
            assert!(read(db, |sql| by_username(sql, "cy")).is_none());
            let missing = db.read_blocking(|sql| by_id(sql, Uuid::now_v7()));
            assert!(matches!(missing, Err(StoreError::NotFound("user"))));

            write(db, |sql| set_password(sql, ada.id, "new")).unwrap();
            let changed = User {
                disabled: true,
                email: Some("ada@school.example".into()),
                display_name: "Ada L".into(),
                pastoral: true,
                ..ada.clone()
            };
            write(db, |sql| update(sql, &changed)).unwrap();
            let back = read(db, |sql| by_id(sql, ada.id));
            assert_eq!(back.password_hash, "new");
            assert_eq!((back.disabled, back.email), (true, changed.email));
            assert!(back.pastoral, "the pastoral permission is kept");
            assert_eq!(read(db, count_enabled_admins), 0);

            let by = |email: &'static str| read(db, move |sql| by_email(sql, email));
            assert_eq!(names(&by("ADA@School.Example")), ["ada"], "any case");
            assert!(by("bea@school.example").is_empty());
            let twin = User {
                email: Some("Ada@school.example".into()),
                ..bea.clone()
            };
            write(db, |sql| update(sql, &twin)).unwrap();
            assert_eq!(names(&by("ada@school.example")), ["ada", "bea"]);

            assert_eq!(bea.choices, Choices::default(), "the digest is on at first");
            let chosen = Choices {
                digest: false,
                digest_at: Some(16 * 60 + 30),
                default_class: None,
                register_reminders: false,
            };
            let address = Some("bea@school.example");
            write(db, |sql| set_choices(sql, bea.id, address, &chosen)).unwrap();
            let back = read(db, |sql| by_id(sql, bea.id));
            assert_eq!((back.choices, back.email.as_deref()), (chosen, address));
            let json = serde_json::to_value(&back).unwrap();
            assert_eq!(
                (&json["digest"], &json["digest_at"]),
                (&serde_json::json!(false), &serde_json::json!("16:30"))
            );
        });
    }

    #[test]
    fn deleting_a_teacher_leaves_their_classes_without_one() {
        each(|db| {
            let bea = add(db, "bea", Role::Teacher).unwrap();
            write(db, |sql| {
                imports::insert_class(sql, "c1", "7B", Some(bea.id), None, UnixMillis(4))
            })
            .unwrap();
            write(db, |sql| delete(sql, bea.id)).unwrap();
            let again = write(db, |sql| delete(sql, bea.id));
            assert!(matches!(again, Err(StoreError::NotFound("user"))));
            let classes = read(db, imports::classes);
            assert_eq!(classes["c1"].detail, None);
            assert_eq!(read(db, count), 0);
        });
    }
}

//! Invitations: how an account is opened without anyone choosing a password for someone else,
//! and without open self-registration.
//!
//! 1. An admin invites a person ([`invite`]): an admin or teacher by name and address; a
//!    student, linked to their student (one account each; the address defaults to the one the
//!    office keeps); or a guardian, by the address the office keeps for them among their
//!    children's contacts (`crate::family`). The account is made at once with
//!    [`NO_PASSWORD`], which matches nothing: until the invitation is used it can be entered
//!    only through the school's provider, which finds accounts by address. A whole class is invited in one go ([`invite_class`]); an
//!    existing account may be invited again ([`reinvite`]: a lost password, an expired link).
//! 2. The hub e-mails the link; only the SHA-256 of its token is stored, with what the relay
//!    said ([`invitations::set_sent`]).
//! 3. The person opens the link ([`look_up`]: whose invitation, until when) and chooses a
//!    password under the usual rule ([`accept`]). The link works once and until it expires;
//!    using it spends every open invitation of the account, and ends its sign-ins.
//!
//! Every step is audited, the token never.

use rollcall_shared::{StudentId, UnixMillis};
use serde_json::json;
use sha2::Digest as _;
use uuid::Uuid;

use super::{AccountError, Hashed, USERNAME_RULE, email_address, valid_username};
use rollcall_store::audit::{self, Change};
use rollcall_store::invitations::{self, Invitation, NewInvitation};
use rollcall_store::users::{self, NO_PASSWORD, Role, User};
use rollcall_store::{Sql, StoreError, guardians, school, signins};

/// Longest display name, in characters.
const MAX_DISPLAY_NAME: usize = 200;

/// Who to invite.
#[derive(Clone, Debug)]
pub struct Invitee {
    pub role: Role,
    /// Required for a student's account; never given for another.
    pub student: Option<StudentId>,
    /// `None`: the address (the usual case of school systems).
    pub username: Option<String>,
    /// `None` for a student: their name as the school writes it.
    pub display_name: Option<String>,
    /// `None` for a student: the address the office keeps for them.
    pub email: Option<String>,
}

/// An invitation just made, with the token for its link (shown once, never stored).
#[derive(Debug)]
pub struct Issued {
    pub invitation: Invitation,
    pub token: String,
}

/// Why a link does not work.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Never made (mistyped, tampered with).
    #[error(
        "this invitation link is not valid: check it was copied whole, or ask the office for a new one"
    )]
    Unknown,
    #[error("this invitation has been used: sign in, or ask the office for a new one")]
    Used,
    #[error("this invitation has expired: ask the office for a new one")]
    Expired,
    #[error("this account is disabled: ask the office")]
    Disabled,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<StoreError> for LinkError {
    fn from(e: StoreError) -> Self {
        LinkError::Account(e.into())
    }
}

/// What became of one student of a class invited together.
#[derive(Debug)]
pub enum ClassOutcome {
    Invited(Issued),
    /// The office keeps no address for them.
    NoAddress,
    /// They already have an account (invite them again from the account).
    HasAccount,
    /// Not expected at lessons now (`active` off).
    Inactive,
}

/// One row of a class's invitations.
#[derive(Debug)]
pub struct ClassInvite {
    pub student: StudentId,
    pub name: String,
    pub outcome: ClassOutcome,
}

/// The SHA-256 of a link's token, in hex: what is stored and looked up.
pub fn digest(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Makes the account `who` describes and an invitation to it, expiring `lifetime_ms` after
/// `now`.
pub fn invite(
    conn: &dyn Sql,
    who: &Invitee,
    actor: &str,
    now: UnixMillis,
    lifetime_ms: i64,
) -> Result<Issued, AccountError> {
    let user = new_account(conn, who, now)?;
    users::insert(conn, &user).map_err(|e| taken(e, who.student.is_some(), &user.username))?;
    audit::log(
        conn,
        Change {
            actor,
            action: "user.create",
            target: format!("user:{}", user.id),
            before: None,
            after: Some(json!(user)),
            at: now,
        },
    )?;
    let email = user.email.clone().unwrap_or_default();
    issue(conn, &user, &email, actor, now, lifetime_ms)
}

/// A new invitation to existing account `id`, to its address (a student's: theirs, or the one
/// the office keeps).
pub fn reinvite(
    conn: &dyn Sql,
    id: Uuid,
    actor: &str,
    now: UnixMillis,
    lifetime_ms: i64,
) -> Result<Issued, AccountError> {
    let user = users::by_id(conn, id)?;
    let kept = match user.student_id {
        Some(student) => school::contact(conn, student)?.email,
        None => None,
    };
    let Some(email) = user.email.clone().or(kept) else {
        return Err(AccountError::Invalid(format!(
            "{} has no e-mail address: give the account one first",
            user.username
        )));
    };
    if user.disabled {
        return Err(AccountError::Invalid(format!(
            "{} is disabled: enable the account first",
            user.username
        )));
    }
    issue(conn, &user, &email, actor, now, lifetime_ms)
}

/// Invites every student of `class` who has an address and no account, each as [`invite`]
/// would; the others are listed with why not.
pub fn invite_class(
    conn: &dyn Sql,
    class: rollcall_shared::ClassId,
    actor: &str,
    now: UnixMillis,
    lifetime_ms: i64,
) -> Result<Vec<ClassInvite>, AccountError> {
    school::class(conn, class)?;
    let contacts = school::contacts(conn)?;
    let with_accounts: Vec<StudentId> = users::list(conn)?
        .into_iter()
        .filter_map(|u| u.student_id)
        .collect();
    let mut rows = Vec::new();
    for student in school::members(conn, class)? {
        let address = contacts.get(&student.id).and_then(|c| c.email.clone());
        let outcome = if with_accounts.contains(&student.id) {
            ClassOutcome::HasAccount
        } else if !student.profile.active {
            ClassOutcome::Inactive
        } else if address.is_none() {
            ClassOutcome::NoAddress
        } else {
            let who = Invitee {
                role: Role::Student,
                student: Some(student.id),
                username: None,
                display_name: None,
                email: None,
            };
            ClassOutcome::Invited(invite(conn, &who, actor, now, lifetime_ms)?)
        };
        rows.push(ClassInvite {
            student: student.id,
            name: student.name,
            outcome,
        });
    }
    Ok(rows)
}

/// The invitation `token` opens, if it still works at `now`.
pub fn look_up(conn: &dyn Sql, token: &str, now: UnixMillis) -> Result<Invitation, LinkError> {
    let Some(invitation) = invitations::by_digest(conn, &digest(token))? else {
        return Err(LinkError::Unknown);
    };
    if invitation.used_at.is_some() {
        return Err(LinkError::Used);
    }
    if invitation.expires_at <= now {
        return Err(LinkError::Expired);
    }
    if users::by_id(conn, invitation.user_id)?.disabled {
        return Err(LinkError::Disabled);
    }
    Ok(invitation)
}

/// Uses `token`: the account's password becomes `password` (already checked against the rule
/// and hashed), every open invitation of the account is spent, and its sign-ins end.
pub fn accept(
    conn: &dyn Sql,
    token: &str,
    password: &Hashed,
    now: UnixMillis,
) -> Result<User, LinkError> {
    let invitation = look_up(conn, token, now)?;
    let user = users::by_id(conn, invitation.user_id)?;
    users::set_password(conn, user.id, &password.phc)?;
    let spent = invitations::spend(conn, user.id, now)?;
    signins::revoke_user(conn, user.id, now)?;
    audit::log(
        conn,
        Change {
            actor: &format!("user:{}", user.username),
            action: "invitation.accept",
            target: format!("user:{}", user.id),
            before: None,
            after: Some(json!({"invitation": invitation.id, "invitations_spent": spent})),
            at: now,
        },
    )?;
    Ok(user)
}

/// The account [`Invitee`] describes, checked, with no password yet.
fn new_account(conn: &dyn Sql, who: &Invitee, now: UnixMillis) -> Result<User, AccountError> {
    let invalid = |m: &str| Err(AccountError::Invalid(m.to_owned()));
    let (display_name, email) = match (who.role, who.student) {
        (Role::Student, Some(student)) => {
            let row = school::student(conn, student)?;
            if !row.profile.active {
                return invalid("this student is not expected at lessons (inactive)");
            }
            let kept = school::contact(conn, student)?.email;
            let email = who.email.clone().or(kept).ok_or_else(|| {
                AccountError::Invalid(format!(
                    "the office keeps no e-mail address for {}: give one",
                    row.name
                ))
            })?;
            (who.display_name.clone().unwrap_or(row.name), email)
        }
        (Role::Student, None) => return invalid("a student's account needs its student"),
        (Role::Guardian, None) => {
            let Some(email) = &who.email else {
                return invalid(
                    "a guardian's invitation needs the address the office keeps for them",
                );
            };
            let email = email_address(email).map_err(AccountError::Invalid)?;
            let (name, kept) = kept_guardian(conn, &email)?.ok_or_else(|| {
                AccountError::Invalid(format!(
                    "no student has a guardian with parental responsibility at {email}: \
                     add them to the student's guardians first"
                ))
            })?;
            (who.display_name.clone().unwrap_or(name), kept)
        }
        (_, Some(_)) => return invalid("only a student's account is linked to a student"),
        (_, None) => {
            let (Some(name), Some(email)) = (&who.display_name, &who.email) else {
                return invalid("an invitation needs a display name and an e-mail address");
            };
            (name.clone(), email.clone())
        }
    };
    let email = email_address(&email).map_err(AccountError::Invalid)?;
    let display_name = crate::office::text("display_name", &display_name, MAX_DISPLAY_NAME)
        .map_err(AccountError::Invalid)?;
    let username = who.username.clone().unwrap_or_else(|| email.clone());
    if !valid_username(&username) {
        return Err(AccountError::Invalid(format!(
            "user names are {USERNAME_RULE}"
        )));
    }
    Ok(User {
        id: Uuid::now_v7(),
        username,
        display_name,
        role: who.role,
        password_hash: NO_PASSWORD.to_owned(),
        disabled: false,
        created_at: now,
        email: Some(email),
        pastoral: false,
        choices: Default::default(),
        student_id: who.student,
    })
}

/// The name and address (as the office writes it) of the guardian with parental
/// responsibility at `email` (any case), if a student has one.
fn kept_guardian(conn: &dyn Sql, email: &str) -> Result<Option<(String, String)>, StoreError> {
    let Some(child) = guardians::children_of(conn, email)?.first().copied() else {
        return Ok(None);
    };
    Ok(guardians::of(conn, child)?.into_iter().find_map(|g| {
        let kept = g.email.filter(|e| e.eq_ignore_ascii_case(email))?;
        Some((g.name, kept))
    }))
}

/// A conflict names what was taken: the user name, or the student's one account.
fn taken(e: StoreError, for_student: bool, username: &str) -> AccountError {
    match e {
        StoreError::Conflict(_) if for_student => AccountError::Taken(format!(
            "this student already has an account, or the user name {username} is taken"
        )),
        StoreError::Conflict(_) => {
            AccountError::Taken(format!("the user name {username} is taken"))
        }
        other => other.into(),
    }
}

/// Stores a fresh invitation to `user`, sent to `email`.
fn issue(
    conn: &dyn Sql,
    user: &User,
    email: &str,
    actor: &str,
    now: UnixMillis,
    lifetime_ms: i64,
) -> Result<Issued, AccountError> {
    let token = super::password::random_secret();
    let new = NewInvitation {
        id: Uuid::now_v7(),
        digest: &digest(&token),
        user_id: user.id,
        email,
        created_by: actor,
        created_at: now,
        expires_at: UnixMillis(now.0 + lifetime_ms),
    };
    invitations::insert(conn, &new)?;
    audit::log(
        conn,
        Change {
            actor,
            action: "invitation.create",
            target: format!("user:{}", user.id),
            before: None,
            after: Some(
                json!({"invitation": new.id, "email": email, "expires_at": new.expires_at}),
            ),
            at: now,
        },
    )?;
    Ok(Issued {
        invitation: invitations::get(conn, new.id)?,
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::password::verify;
    use rollcall_store::engines::{each, read, write};
    use rollcall_store::school::Contact;
    use rollcall_store::{Db, imports};

    const DAY: i64 = 86_400_000;
    const NOW: UnixMillis = UnixMillis(1_795_392_000_000);

    fn student(db: &Db, name: &str, email: Option<&str>) -> StudentId {
        write(db, |sql| {
            let id = imports::insert_student(sql, name, name, NOW)?;
            let contact = Contact {
                email: email.map(str::to_owned),
                phone: None,
            };
            school::set_contact(sql, id, &contact)?;
            Ok(id)
        })
        .unwrap()
    }

    fn of(student: StudentId) -> Invitee {
        Invitee {
            role: Role::Student,
            student: Some(student),
            username: None,
            display_name: None,
            email: None,
        }
    }

    fn invite_at(db: &Db, who: &Invitee, at: UnixMillis) -> Result<Issued, AccountError> {
        db.write_blocking(|sql| invite(sql, who, "user:ada", at, 3 * DAY))
    }

    fn accept_at(db: &Db, token: &str, at: UnixMillis) -> Result<User, LinkError> {
        let password = Hashed::password("a long enough phrase").unwrap();
        db.write_blocking(|sql| accept(sql, token, &password, at))
    }

    #[test]
    fn a_student_is_invited_once_chooses_a_password_and_goes_when_erased() {
        each(|db| {
            let ann = student(db, "Ann Ash", Some("Ann.Ash@pupils.example"));
            let issued = invite_at(db, &of(ann), NOW).unwrap();
            let user = read(db, |sql| users::by_id(sql, issued.invitation.user_id));
            assert_eq!((user.role, user.student_id), (Role::Student, Some(ann)));
            assert_eq!(user.username, "Ann.Ash@pupils.example", "the kept address");
            assert_eq!(user.display_name, "Ann Ash");
            assert!(!verify("", &user.password_hash), "no password works yet");
            assert_eq!(issued.invitation.expires_at, UnixMillis(NOW.0 + 3 * DAY));

            let again = invite_at(db, &of(ann), NOW).unwrap_err();
            assert!(
                again.to_string().contains("already has an account"),
                "{again}"
            );

            let opened = db
                .read_blocking(|sql| look_up(sql, &issued.token, NOW))
                .unwrap();
            assert_eq!(opened.username, user.username);
            let accepted = accept_at(db, &issued.token, UnixMillis(NOW.0 + 1)).unwrap();
            let stored = read(db, |sql| users::by_id(sql, accepted.id));
            assert!(verify("a long enough phrase", &stored.password_hash));
            let replayed = accept_at(db, &issued.token, UnixMillis(NOW.0 + 2)).unwrap_err();
            assert!(matches!(replayed, LinkError::Used), "{replayed}");

            write(db, |sql| school::delete_student(sql, ann)).unwrap();
            let gone = db.read_blocking(|sql| users::by_id(sql, accepted.id));
            assert!(matches!(gone, Err(StoreError::NotFound("user"))));
        });
    }

    #[test]
    fn links_that_are_forged_expired_or_superseded_change_nothing() {
        each(|db| {
            let tess = Invitee {
                role: Role::Teacher,
                student: None,
                username: Some("tess".into()),
                display_name: Some("Tess Ting".into()),
                email: Some("tess@school.example".into()),
            };
            let first = invite_at(db, &tess, NOW).unwrap();
            let forged = format!("{}0", &first.token[1..]);
            assert!(matches!(
                accept_at(db, &forged, NOW).unwrap_err(),
                LinkError::Unknown
            ));
            let late = UnixMillis(NOW.0 + 3 * DAY);
            assert!(matches!(
                accept_at(db, &first.token, late).unwrap_err(),
                LinkError::Expired
            ));
            let id = first.invitation.user_id;
            let second = db
                .write_blocking(|sql| reinvite(sql, id, "user:ada", late, 3 * DAY))
                .unwrap();
            accept_at(db, &second.token, late).unwrap();
            let listed = read(db, invitations::list);
            assert!(listed.iter().all(|i| i.used_at == Some(late)), "both spent");

            let nameless = Invitee {
                email: Some("not an address".into()),
                ..tess.clone()
            };
            assert!(invite_at(db, &nameless, NOW).is_err());
            let linked = Invitee {
                student: Some(student(db, "Bo", None)),
                username: Some("tess2".into()),
                ..tess.clone()
            };
            assert!(
                invite_at(db, &linked, NOW).is_err(),
                "a teacher is no student"
            );
            let patch = super::super::manage::UserPatch {
                role: Some(Role::Student),
                ..Default::default()
            };
            let turned =
                db.write_blocking(|sql| super::super::manage::update(sql, id, patch, "a", NOW));
            assert!(turned.is_err(), "no account becomes a student's");
        });
    }

    #[test]
    fn a_class_is_invited_together_and_told_who_was_not() {
        each(|db| {
            let ann = student(db, "Ann", Some("ann@pupils.example"));
            let bo = student(db, "Bo", None);
            let cy = student(db, "Cy", Some("cy@pupils.example"));
            let class = write(db, |sql| {
                let class = imports::insert_class(sql, "c", "7B", None, None, NOW)?;
                for s in [ann, bo, cy] {
                    school::add_member(sql, class, s, None)?;
                }
                Ok(class)
            })
            .unwrap();
            invite_at(db, &of(cy), NOW).unwrap();
            let rows = db
                .write_blocking(|sql| invite_class(sql, class, "user:ada", NOW, DAY))
                .unwrap();
            let outcome = |s: StudentId| &rows.iter().find(|r| r.student == s).unwrap().outcome;
            assert!(matches!(outcome(ann), ClassOutcome::Invited(_)));
            assert!(matches!(outcome(bo), ClassOutcome::NoAddress));
            assert!(matches!(outcome(cy), ClassOutcome::HasAccount));
            assert_eq!(read(db, invitations::list).len(), 2);
        });
    }
}

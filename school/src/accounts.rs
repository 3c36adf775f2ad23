//! Creating users and registering devices: shared by the command line (`init`, `user add`,
//! `device add`) and the admin API, so both validate and audit the same way. Changing and
//! removing users is in [`manage`]; the password rule and the hashing of passwords and
//! device secrets in [`password`] (the hub runs each hash through its gate, `auth::hashing`).

pub mod invite;
pub mod manage;
pub mod password;

use email_address::{EmailAddress, Options};
use rollcall_shared::record::validate_room;
use rollcall_shared::{DeviceId, Direction, UnixMillis};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use rollcall_store::audit::{self, Change};
use rollcall_store::devices::{self, Device};
use rollcall_store::users::{self, Role, User};
use rollcall_store::{Sql, StoreError};

/// Why an account could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    /// The user name, or the student's one account, is someone's already.
    #[error("{0}")]
    Taken(String),
    /// The change would leave the hub without an enabled admin.
    #[error("{0} is the last enabled admin; make another admin first")]
    LastAdmin(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] password::HashError),
}

/// A user to create.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password: &'a Hashed,
    /// Already checked with [`email_address`].
    pub email: Option<&'a str>,
}

/// Longest e-mail address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// `text` as an e-mail address (`name@domain`, no display name), or why not.
pub fn email_address(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() > MAX_EMAIL {
        return Err(format!(
            "an e-mail address has at most {MAX_EMAIL} characters"
        ));
    }
    parse_address(text)
        .map(|a| a.as_str().to_owned())
        .map_err(|e| format!("{:?} is not an e-mail address ({e})", text))
}

/// The address alone, as lettre (the digest's sender) accepts it: no display name.
fn parse_address(text: &str) -> Result<EmailAddress, email_address::Error> {
    EmailAddress::parse_with_options(text, Options::default().without_display_text())
}

/// A secret with its argon2 hash, made before the transaction that stores the hash: hashing
/// takes about a tenth of a second and 19 MiB, and the hub's one writing connection, which
/// ingest needs, must not wait for it.
pub struct Hashed {
    secret: String,
    phc: String,
}

impl Hashed {
    /// A user's password, refused when it breaks [`password::check_rule`].
    pub fn password(password: &str) -> Result<Self, AccountError> {
        password::check_rule(password).map_err(AccountError::Invalid)?;
        Self::new(password.to_owned())
    }

    /// A new random device secret.
    pub fn device_secret() -> Result<Self, AccountError> {
        Self::new(password::random_secret())
    }

    fn new(secret: String) -> Result<Self, AccountError> {
        let phc = password::hash(&secret)?;
        Ok(Self { secret, phc })
    }
}

impl std::fmt::Debug for Hashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hashed { .. }")
    }
}

/// A freshly registered device and the MQTT credentials to give it (shown once).
#[derive(Debug, Serialize)]
pub struct Registered {
    pub device: Device,
    pub mqtt_username: String,
    pub mqtt_password: String,
}

/// Why a student's or a guardian's account is not made like another's.
pub const FAMILY_BY_INVITATION: &str = "a student's or a guardian's account is opened by \
     inviting the student or the guardian (POST /invitations), which links it to the student \
     or to their children";

/// The longest user name: an e-mail address's.
pub const MAX_USERNAME: usize = MAX_EMAIL;

/// What a user name may be, for the messages that refuse one.
pub const USERNAME_RULE: &str = "1 to 64 letters, digits, '.', '_' or '-', or an e-mail address";

/// A user name is [`USERNAME_RULE`]: the short form a school types, or an e-mail address as
/// school information systems send teachers' and students' user names (OneRoster's
/// `username`), kept exactly as written.
pub fn valid_username(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    let short = (1..=64).contains(&name.len()) && name.chars().all(ok);
    short || (name.len() <= MAX_USERNAME && parse_address(name).is_ok_and(|a| a.as_str() == name))
}

/// Stores the user with their hashed password, with an audit entry.
pub fn create_user(
    conn: &dyn Sql,
    new: &NewUser<'_>,
    actor: &str,
    now: UnixMillis,
) -> Result<User, AccountError> {
    if !valid_username(new.username) {
        return Err(AccountError::Invalid(format!(
            "user names are {USERNAME_RULE}"
        )));
    }
    if !new.role.is_staff() {
        return Err(AccountError::Invalid(FAMILY_BY_INVITATION.into()));
    }
    let user = User {
        id: Uuid::now_v7(),
        username: new.username.to_owned(),
        display_name: new.display_name.to_owned(),
        role: new.role,
        password_hash: new.password.phc.clone(),
        disabled: false,
        created_at: now,
        email: new.email.map(str::to_owned),
        pastoral: false,
        choices: Default::default(),
        student_id: None,
    };
    users::insert(conn, &user)?;
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
    Ok(user)
}

/// Registers a device in `room`, facing `direction`, with `secret` (from [`Hashed::device_secret`]) as its MQTT
/// password; only the hash is stored.
pub fn register_device(
    conn: &dyn Sql,
    name: &str,
    room: &str,
    direction: Direction,
    secret: Hashed,
    actor: &str,
    now: UnixMillis,
) -> Result<Registered, AccountError> {
    validate_room(room).map_err(|e| AccountError::Invalid(e.to_string()))?;
    if name.trim().is_empty() || name.len() > 64 {
        return Err(AccountError::Invalid(
            "device names are 1 to 64 characters".into(),
        ));
    }
    let device = Device {
        direction,
        ..Device::new(DeviceId::random(), name, room, now)
    };
    devices::insert(conn, &device, &secret.phc)?;
    audit::log(
        conn,
        Change {
            actor,
            action: "device.register",
            target: format!("device:{}", device.id),
            before: None,
            after: Some(json!(device)),
            at: now,
        },
    )?;
    Ok(Registered {
        mqtt_username: device.id.to_string(),
        mqtt_password: secret.secret,
        device,
    })
}

/// Gives device `id` the new MQTT secret (its old one stops working at its next CONNECT) and
/// returns the secret, to be handed to the device once.
pub fn rotate_device_secret(
    conn: &dyn Sql,
    id: DeviceId,
    secret: Hashed,
) -> Result<String, AccountError> {
    devices::set_credential(conn, id, &secret.phc)?;
    Ok(secret.secret)
}

#[cfg(test)]
mod tests {
    use super::{email_address, valid_username};

    #[test]
    fn a_user_name_is_short_and_plain_or_an_e_mail_address_as_written() {
        for good in [
            "tess",
            "t.ting_2-b",
            "tess@school.example",
            "Tess.Ting+maths@school.example",
        ] {
            assert!(valid_username(good), "{good:?}");
        }
        let long = format!("{}@school.example", "a".repeat(64));
        assert!(valid_username(&long), "a long address is still a user name");
        for bad in [
            "",
            "tess ting",
            &"a".repeat(65),
            "tess@",
            " tess@school.example",
            "Tess <tess@school.example>",
            &format!("{}@school.example", "a".repeat(250)),
        ] {
            assert!(!valid_username(bad), "{bad:?}");
        }
    }

    #[test]
    fn an_address_is_name_at_domain_and_nothing_else() {
        assert_eq!(
            email_address(" tess@school.example ").unwrap(),
            "tess@school.example"
        );
        for bad in [
            "",
            "tess",
            "tess@",
            "@school.example",
            "a@@b",
            "Tess <tess@school.example>",
        ] {
            assert!(email_address(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@school.example", "a".repeat(250));
        assert!(email_address(&long).unwrap_err().contains("at most"));
    }
}

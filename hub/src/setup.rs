//! One-off administration without a running server: `init` (data directory, database, signing
//! key, first admin) and the `user` (add, list, reset-password) and `device` (add, cert, list)
//! subcommands, which work on the database and the data directory directly. Synchronous: the
//! command line has no runtime.

use std::path::{Path, PathBuf};

use rollcall_runtime::clock::{Clock, SystemClock};
use rollcall_shared::{DeviceId, Direction};

use crate::auth::key::{KeyError, SigningKey};
use crate::config::Config;
use crate::device_ca::{CaError, DeviceCa, DeviceFiles, write_device_files};
use rollcall_school::accounts::manage;
use rollcall_school::accounts::{self, AccountError, Hashed, NewUser, Registered};
use rollcall_store::devices::{self, Device};
use rollcall_store::keys::{self, Keyring, KeysError};
use rollcall_store::postgres::{AddedSchool, Postgres, SchoolSummary, SetAside, Target};
use rollcall_store::users::{self, Role, User};
use rollcall_store::{DATABASE_FILE, Db, StoreError};

/// The actor named in the audit log for command-line changes.
pub const CLI_ACTOR: &str = "cli";

/// Why a setup command failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot create {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} already holds a hub database; refusing to initialise it again")]
    AlreadyInitialised(PathBuf),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    FaceKeys(#[from] KeysError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("door-unit certificate: {0}")]
    Ca(#[from] CaError),
    #[error("cannot read {path}: {source}")]
    Secret {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("device {0} is not registered")]
    UnknownDevice(DeviceId),
    #[error("device {0} is disabled: enable it first (a disabled device's certificate is refused)")]
    DisabledDevice(DeviceId),
}

/// Creates `data_dir` (mode 0700), the SQLite database, the signing key and the first admin.
pub fn init(data_dir: &Path, admin: &str, password: &str) -> Result<User, SetupError> {
    let config = Config {
        data_dir: data_dir.to_owned(),
        ..Config::default()
    };
    init_store(&config, admin, password)
}

/// Creates the data directory (mode 0700), the database (SQLite in the data directory, or the
/// schema in the PostgreSQL database `[store] url` names, which must hold no users yet), the
/// face key file, the signing key and the first admin. On PostgreSQL a signing key already in
/// the data directory is kept: it is the hub's, and each school a hub serves is made in turn.
pub fn init_store(config: &Config, admin: &str, password: &str) -> Result<User, SetupError> {
    let data_dir = &config.data_dir;
    create_data_dir(data_dir).map_err(|source| SetupError::CreateDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let db = match &config.store.url {
        None => {
            let db_path = data_dir.join(DATABASE_FILE);
            if db_path.exists() {
                return Err(SetupError::AlreadyInitialised(data_dir.to_owned()));
            }
            admitted(Db::open(&db_path, keyring(config)?)?, config)?
        }
        Some(url) => {
            let db = open_store(config)?;
            if !list_users(&db)?.is_empty() {
                return Err(SetupError::AlreadyInitialised(url.into()));
            }
            db
        }
    };
    if config.store.url.is_none() || !data_dir.join(crate::auth::key::KEY_FILE).exists() {
        SigningKey::create(data_dir)?;
    }
    add_user(&db, admin, admin, Role::Admin, password, None)
}

/// Makes `data_dir` if missing and leaves it readable by the hub's user only (mode 0700): it
/// holds children's faces and the token key.
pub fn create_data_dir(data_dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens and migrates the store `config` names: SQLite in its data directory (which must have
/// been initialised), or its PostgreSQL database (`[store] url`).
pub fn open_store(config: &Config) -> Result<Db, SetupError> {
    admitted(open_unadmitted(config)?, config)
}

/// The face keys `config` names (`[privacy] face_key_file`, else `faces.key` in the data
/// directory), a new key file made when there is none: a database that names no key yet
/// takes it; one that does refuses it ([`admitted`]), saying which key it needs.
pub fn keyring(config: &Config) -> Result<Keyring, SetupError> {
    Ok(Keyring::load_or_create(&config.face_key_path()).map_err(KeysError::from)?)
}

/// `db` once its key file holds every key its faces are sealed with.
pub fn admitted(db: Db, config: &Config) -> Result<Db, SetupError> {
    let file = config.face_key_path();
    let now = SystemClock.now();
    db.write_blocking(|sql| keys::admit(sql, &file, now))?;
    Ok(db)
}

/// Another school of `first`'s PostgreSQL database, the one `config` names: its schema made
/// when missing and brought up to date, on `first`'s connections, and its face keys checked.
pub fn open_school(first: &Db, config: &Config) -> Result<Db, SetupError> {
    admitted(first.school(&config.store.schema)?, config)
}

/// [`open_store`] without checking the key file against the database: for `faces-key lost`,
/// which erases the faces whose key is gone.
pub fn open_unadmitted(config: &Config) -> Result<Db, SetupError> {
    let keys = keyring(config)?;
    let Some(url) = &config.store.url else {
        let path = config.data_dir.join(DATABASE_FILE);
        if !path.exists() {
            return Err(SetupError::Store(StoreError::NotFound(
                "hub database (run `rollcall-hub init` first)",
            )));
        }
        return Ok(Db::open(&path, keys)?);
    };
    let password = match &config.store.password_file {
        Some(path) => Some(read_secret(path)?),
        None => None,
    };
    Ok(Db::open_postgres(
        &Target {
            url,
            password: password.as_deref(),
            ca_file: config.store.ca_file.as_deref(),
            pool_size: config.store.pool_size,
            schema: &config.store.schema,
        },
        keys,
    )?)
}

/// The schools sharing the PostgreSQL database `[store] url` names (whichever school its
/// `schema` is), with the records each received since `since` (ms since the epoch); and the
/// schemas left out, with why. Migrates nothing.
pub fn district(
    config: &Config,
    since: i64,
) -> Result<(Vec<SchoolSummary>, Vec<SetAside>), SetupError> {
    let Some(db) = district_database(config)? else {
        return Err(SetupError::Store(StoreError::Config(
            "the schools share a PostgreSQL database: [store] url is not set".into(),
        )));
    };
    Ok(db.schools(since)?)
}

/// One connection to the PostgreSQL database `[store] url` names, migrating nothing; `None`
/// when the store is SQLite.
fn district_database(config: &Config) -> Result<Option<Postgres>, SetupError> {
    let Some(url) = &config.store.url else {
        return Ok(None);
    };
    let password = match &config.store.password_file {
        Some(path) => Some(read_secret(path)?),
        None => None,
    };
    let target = Target {
        url,
        password: password.as_deref(),
        ca_file: config.store.ca_file.as_deref(),
        pool_size: 1,
        schema: &config.store.schema,
    };
    Ok(Some(Postgres::connect(&target)?))
}

/// The schools district admins added to the district whose PostgreSQL database `[store] url`
/// names (`POST /district/schools`), as its table lists them.
pub fn added_schools(config: &Config) -> Result<Vec<AddedSchool>, SetupError> {
    match district_database(config)? {
        Some(db) => Ok(db.added_schools()?),
        None => Ok(Vec::new()),
    }
}

/// The first line of a secret file, without its line ending.
fn read_secret(path: &Path) -> Result<String, SetupError> {
    let text = std::fs::read_to_string(path).map_err(|source| SetupError::Secret {
        path: path.to_owned(),
        source,
    })?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// The SQLite store in `data_dir`, its faces sealed with the key file there.
pub fn open(data_dir: &Path) -> Result<Db, SetupError> {
    open_store(&Config {
        data_dir: data_dir.to_owned(),
        ..Config::default()
    })
}

pub fn add_user(
    db: &Db,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    email: Option<&str>,
) -> Result<User, SetupError> {
    let now = SystemClock.now();
    let password = Hashed::password(password)?;
    let new = NewUser {
        username,
        display_name,
        role,
        password: &password,
        email,
    };
    let user = db.write_blocking(|tx| {
        let user = accounts::create_user(tx, &new, CLI_ACTOR, now)?;
        Ok::<_, AccountError>(user)
    })?;
    Ok(user)
}

/// Sets `username`'s password and ends all their sign-ins, as the audit log's `cli` actor.
pub fn reset_password(db: &Db, username: &str, password: &str) -> Result<User, SetupError> {
    let now = SystemClock.now();
    let password = Hashed::password(password)?;
    let user = db.write_blocking(|tx| {
        let user = users::by_username(tx, username)?.ok_or(StoreError::NotFound("user"))?;
        let user = manage::set_password(tx, user.id, &password, CLI_ACTOR, now)?;
        Ok::<_, AccountError>(user)
    })?;
    Ok(user)
}

pub fn add_device(
    db: &Db,
    name: &str,
    room: &str,
    direction: Direction,
) -> Result<Registered, SetupError> {
    let now = SystemClock.now();
    let secret = Hashed::device_secret()?;
    let registered = db.write_blocking(|tx| {
        let r = accounts::register_device(tx, name, room, direction, secret, CLI_ACTOR, now)?;
        Ok::<_, AccountError>(r)
    })?;
    Ok(registered)
}

/// Issues a client certificate for `device` (registered and enabled) from the door-unit CA in
/// `data_dir`, made there on first use, and writes its certificate and key into `out`.
pub fn issue_device_cert(
    data_dir: &Path,
    db: &Db,
    device: DeviceId,
    out: &Path,
) -> Result<DeviceFiles, SetupError> {
    let found = db.read_blocking(|sql| devices::get(sql, device))?;
    match found {
        None => return Err(SetupError::UnknownDevice(device)),
        Some(d) if !d.enabled => return Err(SetupError::DisabledDevice(device)),
        Some(_) => {}
    }
    let today = chrono::DateTime::from_timestamp_millis(SystemClock.now().0)
        .unwrap_or_default()
        .date_naive();
    let ca = DeviceCa::open_or_create(data_dir, today)?;
    let cert = ca.issue(device, today)?;
    Ok(write_device_files(out, &cert)?)
}

pub fn list_users(db: &Db) -> Result<Vec<User>, SetupError> {
    Ok(db.read_blocking(|sql| users::list(sql))?)
}

pub fn list_devices(db: &Db) -> Result<Vec<Device>, SetupError> {
    Ok(db.read_blocking(|sql| devices::list(sql))?)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_registered_device_gets_its_files_and_the_ca_is_made_on_first_need() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        init(&data, "admin", "correct horse battery").unwrap();
        let db = open(&data).unwrap();
        let r = add_device(&db, "door-1", "Lab 3", Direction::Both).unwrap();
        assert!(!data.join(crate::device_ca::CA_KEY_FILE).exists());

        let out = dir.path().join("door-1");
        let files = issue_device_cert(&data, &db, r.device.id, &out).unwrap();
        assert_eq!(mode(&data.join(crate::device_ca::CA_KEY_FILE)), 0o600);
        assert_eq!(mode(&files.key), 0o600);
        assert!(
            std::fs::read_to_string(&files.cert)
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE-----")
        );

        let unknown = DeviceId::random();
        let refused = issue_device_cert(&data, &db, unknown, &dir.path().join("x"));
        assert!(matches!(refused, Err(SetupError::UnknownDevice(d)) if d == unknown));
        db.write_blocking(|sql| devices::set_enabled(sql, r.device.id, false))
            .unwrap();
        let refused = issue_device_cert(&data, &db, r.device.id, &dir.path().join("y"));
        assert!(matches!(refused, Err(SetupError::DisabledDevice(_))));
    }
}

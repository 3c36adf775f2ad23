//! What can go wrong in the store, on either engine: [`StoreError`], whose variants say what a
//! caller can do about it, and how a PostgreSQL error is put into words (the `postgres` crate's
//! own `Display` says only "db error"). It imports nothing else of the store, so every part of
//! it, the back ends included, can return it.

use postgres::error::SqlState;
use rollcall_runtime::seal::SealError;
use rollcall_runtime::sqlite::MigrateError;

/// What went wrong with the store; variants say what a caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("no database connection: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database: {0}")]
    Migrate(#[from] MigrateError),
    #[error("database settings: {0}")]
    Config(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database task failed: {0}")]
    Task(String),
    #[error("a face cannot be opened: {0}")]
    Sealed(#[from] SealError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub fn conflict_on_unique(e: impl Into<StoreError>, what: &str) -> Self {
        let e = e.into();
        match e.is_constraint_violation() {
            true => StoreError::Conflict(format!("{what} already exists")),
            false => e,
        }
    }

    /// Whether the database refused a write for breaking a constraint (unique, check, foreign
    /// key, not null), on either engine.
    pub fn is_constraint_violation(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => {
                e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
            }
            StoreError::Postgres(e) => e.code().is_some_and(|code| {
                [
                    SqlState::UNIQUE_VIOLATION,
                    SqlState::CHECK_VIOLATION,
                    SqlState::FOREIGN_KEY_VIOLATION,
                    SqlState::NOT_NULL_VIOLATION,
                ]
                .contains(code)
            }),
            _ => false,
        }
    }
}

/// An error and its sources, `: `-separated (`postgres::Error` alone says only "error
/// connecting to server").
pub(super) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// What the server said (its message, and its detail when it gave one), else the client's
/// own error: `postgres::Error` alone prints only "db error".
pub(super) fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => chain(e),
    }
}

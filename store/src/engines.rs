//! Both engines for the store's tests: each test body runs once on a SQLite file and once on
//! a PostgreSQL database of its own (a throwaway server, `rollcall_e2e::postgres`), so one
//! suite holds both to the same behaviour. Without a PostgreSQL server installed the tests
//! fail, saying how to install one: CI always has it.

use super::db::{DATABASE_FILE, Db};
use super::error::StoreError;
use super::keyring::Keyring;
use super::postgres::{Schema, Target};
use super::sql::Sql;

/// A migrated database on one engine, and what keeps it alive.
#[derive(Debug)]
pub struct Engine {
    pub name: &'static str,
    pub db: Db,
    _sqlite: Option<tempfile::TempDir>,
    _postgres: Option<rollcall_e2e::postgres::Postgres>,
}

pub fn sqlite() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join(DATABASE_FILE), test_keys()).unwrap();
    Engine {
        name: "SQLite",
        db,
        _sqlite: Some(dir),
        _postgres: None,
    }
}

pub fn postgres() -> Engine {
    let server = rollcall_e2e::postgres::Postgres::start()
        .unwrap_or_else(|e| panic!("the PostgreSQL half of the store tests cannot run: {e:#}"));
    let url = server.create_database("rollcall").unwrap();
    let db = Db::open_postgres(
        &Target {
            url: &url,
            password: None,
            ca_file: None,
            pool_size: 4,
            schema: &Schema::public(),
        },
        test_keys(),
    )
    .unwrap_or_else(|e| panic!("opening {url}: {e}\n{}", server.log()));
    Engine {
        name: "PostgreSQL",
        db,
        _sqlite: None,
        _postgres: Some(server),
    }
}

/// A key of its own for one test's database.
pub fn test_keys() -> Keyring {
    Keyring::fixed(rollcall_runtime::seal::FaceKeys::generate())
}

/// Runs `test` on a fresh database of each engine, saying which one failed.
pub fn each(test: impl Fn(&Db)) {
    for engine in [sqlite(), postgres()] {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(&engine.db)));
        if let Err(panic) = outcome {
            eprintln!("failed on {}", engine.name);
            std::panic::resume_unwind(panic);
        }
    }
}

/// `f` in one write transaction of `db`.
pub fn write<T>(
    db: &Db,
    f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    db.write_blocking(f)
}

/// `f` in one read transaction of `db`, which must succeed.
pub fn read<T>(db: &Db, f: impl FnOnce(&dyn Sql) -> Result<T, StoreError>) -> T {
    db.read_blocking(f).unwrap()
}

//! Wall-clock instants on the wire: milliseconds since the Unix epoch, UTC.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z. Device clocks drift: the hub keeps its own
/// receive time beside this one.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// Signed difference `self - earlier` in milliseconds.
    pub fn millis_since(self, earlier: UnixMillis) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    pub fn saturating_add(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    pub fn saturating_sub(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }
}

impl From<SystemTime> for UnixMillis {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(e) => Self(-i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

impl fmt::Display for UnixMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// Stored as an INTEGER column of milliseconds, as the bare `i64` was.
#[cfg(feature = "rusqlite")]
mod sql {
    use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

    use super::UnixMillis;

    impl ToSql for UnixMillis {
        fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
            Ok(ToSqlOutput::from(self.0))
        }
    }

    impl FromSql for UnixMillis {
        fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
            i64::column_result(value).map(UnixMillis)
        }
    }

    #[cfg(test)]
    mod tests {
        use rusqlite::Connection;

        use super::UnixMillis;

        #[test]
        fn round_trips_through_an_integer_column() {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute("CREATE TABLE t (at INTEGER NOT NULL)", [])
                .unwrap();
            conn.execute(
                "INSERT INTO t (at) VALUES (?1)",
                [UnixMillis(1_795_000_000_123)],
            )
            .unwrap();
            let (back, raw, kind): (UnixMillis, i64, String) = conn
                .query_row("SELECT at, at, typeof(at) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .unwrap();
            assert_eq!(
                (back, raw, kind.as_str()),
                (UnixMillis(1_795_000_000_123), 1_795_000_000_123, "integer")
            );
            assert!(
                conn.query_row("SELECT 'x'", [], |r| r.get::<_, UnixMillis>(0))
                    .is_err()
            );
        }
    }
}

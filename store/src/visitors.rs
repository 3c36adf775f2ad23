//! Visitors signed in at reception: who, from where, whom they visit, their vehicle, their
//! badge's code, when they came and left. Plain reads and writes; what a visitor must give and
//! how a badge code is made are `rollcall_school::visitors`'. No face of a visitor is kept.

use rollcall_shared::UnixMillis;
use serde::Serialize;
use uuid::Uuid;

use super::columns::{id_col, readable};
use super::error::StoreError;
use super::sql::{ReadResult, Row, Sql, params};

const INSERT: &str = "INSERT INTO visitors (id, name, organisation, visiting, vehicle, badge,
    signed_in_at, signed_in_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const SELECT: &str = "SELECT id, name, organisation, visiting, vehicle, badge, signed_in_at,
    signed_in_by, signed_out_at, signed_out_by FROM visitors";
const SIGN_OUT: &str = "UPDATE visitors SET signed_out_at = ?2, signed_out_by = ?3
    WHERE id = ?1 AND signed_out_at IS NULL";
const PURGE: &str = "DELETE FROM visitors WHERE signed_in_at < ?1 AND signed_out_at IS NOT NULL";

/// One visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Visitor {
    pub id: Uuid,
    pub name: String,
    pub organisation: Option<String>,
    /// Whom they came to see.
    pub visiting: String,
    /// A vehicle's registration, when they came by car.
    pub vehicle: Option<String>,
    /// The code on their badge, unique among the visitors on site.
    pub badge: String,
    pub signed_in_at: UnixMillis,
    pub signed_in_by: String,
    pub signed_out_at: Option<UnixMillis>,
    pub signed_out_by: Option<String>,
}

/// Stores a visitor signing in. A badge code another visitor on site has is
/// [`StoreError::Conflict`].
pub fn insert(sql: &dyn Sql, v: &Visitor) -> Result<(), StoreError> {
    let p = params![
        v.id.to_string(),
        v.name,
        v.organisation,
        v.visiting,
        v.vehicle,
        v.badge,
        v.signed_in_at,
        v.signed_in_by
    ];
    sql.execute(INSERT, p)
        .map_err(|e| StoreError::conflict_on_unique(e, "a visitor on site with this badge"))?;
    Ok(())
}

/// The visitors on site now (signed in, not out), first in first.
pub fn on_site(sql: &dyn Sql) -> Result<Vec<Visitor>, StoreError> {
    let query = format!("{SELECT} WHERE signed_out_at IS NULL ORDER BY signed_in_at, id");
    let rows = sql.query_map(&query, &[], visitor)?;
    readable(rows, "visitor")
}

/// The visitors who signed in within `[from, to)`, and those still on site from before.
pub fn between(
    sql: &dyn Sql,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Vec<Visitor>, StoreError> {
    let query = format!(
        "{SELECT} WHERE (signed_in_at >= ?1 AND signed_in_at < ?2)
            OR (signed_out_at IS NULL AND signed_in_at < ?2)
        ORDER BY signed_in_at, id"
    );
    let rows = sql.query_map(&query, params![from, to], visitor)?;
    readable(rows, "visitor")
}

pub fn get(sql: &dyn Sql, id: Uuid) -> Result<Visitor, StoreError> {
    let query = format!("{SELECT} WHERE id = ?1");
    sql.query_one(&query, params![id.to_string()], "visitor", visitor)
}

/// Signs a visitor on site out. Returns whether they were on site.
pub fn sign_out(sql: &dyn Sql, id: Uuid, at: UnixMillis, by: &str) -> Result<bool, StoreError> {
    Ok(sql.execute(SIGN_OUT, params![id.to_string(), at, by])? == 1)
}

/// Deletes the visits that began before `before` and have ended. Returns how many.
pub fn purge(sql: &dyn Sql, before: UnixMillis) -> Result<usize, StoreError> {
    sql.execute(PURGE, params![before])
}

fn visitor(r: &Row) -> ReadResult<Visitor> {
    Ok(Visitor {
        id: id_col(r, "id")?,
        name: r.get("name")?,
        organisation: r.get("organisation")?,
        visiting: r.get("visiting")?,
        vehicle: r.get("vehicle")?,
        badge: r.get("badge")?,
        signed_in_at: r.get("signed_in_at")?,
        signed_in_by: r.get("signed_in_by")?,
        signed_out_at: r.get("signed_out_at")?,
        signed_out_by: r.get("signed_out_by")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::each;

    fn visit(name: &str, badge: &str, at: i64) -> Visitor {
        Visitor {
            id: Uuid::now_v7(),
            name: name.into(),
            organisation: None,
            visiting: "Mrs Head".into(),
            vehicle: Some("AB12 CDE".into()),
            badge: badge.into(),
            signed_in_at: UnixMillis(at),
            signed_in_by: "user:reception".into(),
            signed_out_at: None,
            signed_out_by: None,
        }
    }

    #[test]
    fn a_visit_is_kept_until_it_ends_and_retention_passes() {
        each(|db| {
            let (ann, bob) = (visit("Ann", "K7P2QX", 10), visit("Bob", "M3R9TZ", 20));
            db.write_blocking(|sql| {
                insert(sql, &ann)?;
                insert(sql, &bob)
            })
            .unwrap();
            let twin = visit("Cy", "K7P2QX", 30);
            let e = db.write_blocking(|sql| insert(sql, &twin));
            assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
            db.write_blocking(|sql| {
                assert_eq!(on_site(sql)?, [ann.clone(), bob.clone()]);
                assert!(sign_out(sql, ann.id, UnixMillis(40), "user:reception")?);
                assert!(
                    !sign_out(sql, ann.id, UnixMillis(41), "user:reception")?,
                    "once"
                );
                // Ann's badge is free again once she has left.
                insert(sql, &visit("Di", "K7P2QX", 50))?;
                let left = get(sql, ann.id)?;
                assert_eq!(left.signed_out_at, Some(UnixMillis(40)));
                let day: Vec<String> = (between(sql, UnixMillis(15), UnixMillis(60))?)
                    .into_iter()
                    .map(|v| v.name)
                    .collect();
                assert_eq!(day, ["Bob", "Di"], "Ann came before; Bob and Di are in it");
                assert_eq!(purge(sql, UnixMillis(100))?, 1, "only ended visits go");
                assert_eq!(on_site(sql)?.len(), 2);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        });
    }
}

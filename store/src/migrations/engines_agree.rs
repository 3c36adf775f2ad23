//! Both migration lists end in the same schema: every table with the same columns (name,
//! type, whether it may be null, its place in the primary key), the same foreign keys, the
//! same unique column sets and as many CHECK constraints. Each engine is asked through its
//! own catalogue; SQLite's types are named as PostgreSQL's columns take them (`BIGINT` for
//! `INTEGER`, and so on: see `postgres/migrations.rs`).

use std::collections::{BTreeMap, BTreeSet};

use crate::engines::{postgres, read, sqlite};
use crate::error::StoreError;
use crate::sql::{Dialect, Sql, params};

/// What one table is, as far as the two engines must agree.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Name → (type, not null, position in the primary key: 0 when not in it).
    columns: BTreeMap<String, (String, bool, i64)>,
    /// (columns, referenced table, referenced columns), all in order.
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// The column sets each unique index or constraint covers, primary keys left out.
    unique: BTreeSet<Vec<String>>,
    checks: usize,
}

/// Tables one engine has for its own bookkeeping only.
const OWN_TABLES: [&str; 1] = ["rollcall_schema"];

/// The column a PostgreSQL table declares where the store reads SQLite's implicit one.
const SQLITE_ROWID: &str = "rowid";

#[test]
fn both_engines_end_with_the_same_tables_columns_and_constraints() {
    let (lite, pg) = (sqlite(), postgres());
    let on_sqlite = read(&lite.db, schema);
    let on_postgres = read(&pg.db, schema);
    assert_eq!(
        on_sqlite.keys().collect::<Vec<_>>(),
        on_postgres.keys().collect::<Vec<_>>(),
        "the engines have different tables"
    );
    for (name, table) in &on_sqlite {
        assert_eq!(
            table, &on_postgres[name],
            "table {name}: SQLite left, PostgreSQL right"
        );
    }
}

fn schema(sql: &dyn Sql) -> Result<BTreeMap<String, Table>, StoreError> {
    let mut tables = BTreeMap::new();
    for name in table_names(sql)? {
        if OWN_TABLES.contains(&name.as_str()) {
            continue;
        }
        let table = match sql.dialect() {
            Dialect::Sqlite => sqlite_table(sql, &name)?,
            Dialect::Postgres => postgres_table(sql, &name)?,
        };
        tables.insert(name, table);
    }
    Ok(tables)
}

fn table_names(sql: &dyn Sql) -> Result<Vec<String>, StoreError> {
    let query = match sql.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Dialect::Postgres => {
            "SELECT table_name FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let rows = sql.rows(query, params![])?;
    Ok(rows.iter().map(|r| r.get(0)).collect::<Result<_, _>>()?)
}

/// SQLite's declared type as PostgreSQL's column of the same migration declares it.
fn as_postgres_type(declared: &str) -> String {
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" => "bigint".into(),
        "REAL" => "double precision".into(),
        "BLOB" => "bytea".into(),
        other => other.to_ascii_lowercase(),
    }
}

fn sqlite_table(sql: &dyn Sql, name: &str) -> Result<Table, StoreError> {
    let mut table = Table::default();
    let columns = sql.rows(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)",
        params![name],
    )?;
    for c in columns {
        let pk: i64 = c.get(3)?;
        // SQLite lets a primary key column be NULL unless it says otherwise; PostgreSQL never.
        let not_null = c.get::<bool>(2)? || pk > 0;
        let kind = as_postgres_type(&c.get::<String>(1)?);
        table.columns.insert(c.get(0)?, (kind, not_null, pk));
    }
    let keys = sql.rows(
        "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
        params![name],
    )?;
    let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>)> = BTreeMap::new();
    for k in keys {
        let entry = by_id.entry(k.get(0)?).or_default();
        entry.1 = k.get(1)?;
        entry.0.push(k.get(2)?);
        entry.2.push(k.get(3)?);
    }
    table.foreign_keys = by_id.into_values().collect();
    let indexes = sql.rows(
        "SELECT name FROM pragma_index_list(?1) WHERE \"unique\" AND origin != 'pk'",
        params![name],
    )?;
    for index in indexes {
        let index: String = index.get(0)?;
        let columns = sql.rows(
            "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
            params![index],
        )?;
        let columns = columns.iter().map(|c| c.get(0)).collect::<Result<_, _>>()?;
        table.unique.insert(columns);
    }
    let created: String = sql
        .rows(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            params![name],
        )?
        .first()
        .map(|r| r.get(0))
        .transpose()?
        .unwrap_or_default();
    table.checks = created.to_ascii_uppercase().matches("CHECK").count();
    Ok(table)
}

fn postgres_table(sql: &dyn Sql, name: &str) -> Result<Table, StoreError> {
    let mut table = Table::default();
    let columns = sql.rows(
        "SELECT c.column_name::text, c.data_type::text, c.is_nullable = 'NO',
                coalesce((SELECT k.ordinal_position FROM information_schema.key_column_usage k
                          JOIN information_schema.table_constraints t
                            ON t.constraint_name = k.constraint_name
                           AND t.table_schema = k.table_schema
                          WHERE t.constraint_type = 'PRIMARY KEY' AND k.table_schema = c.table_schema
                            AND k.table_name = c.table_name AND k.column_name = c.column_name), 0)::bigint
         FROM information_schema.columns c
         WHERE c.table_schema = current_schema() AND c.table_name = ?1",
        params![name],
    )?;
    for c in columns {
        table
            .columns
            .insert(c.get(0)?, (c.get(1)?, c.get(2)?, c.get(3)?));
    }
    // A `rowid` column stands for the one SQLite gives every table (`attendance_codes`).
    if table.columns.remove(SQLITE_ROWID).is_some() {
        table.unique.remove(&vec![SQLITE_ROWID.to_owned()]);
    }
    // Each constraint's columns, in their order, with the referenced table's for a foreign key.
    let constraints = sql.rows(
        "SELECT con.contype::text,
                array_to_string(ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
                    ORDER BY k.i), ','),
                coalesce(ref.relname::text, ''),
                array_to_string(ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
                    ORDER BY k.i), ',')
         FROM pg_constraint con
         JOIN pg_class rel ON rel.oid = con.conrelid
         JOIN pg_namespace ns ON ns.oid = rel.relnamespace
         LEFT JOIN pg_class ref ON ref.oid = con.confrelid
         WHERE ns.nspname = current_schema() AND rel.relname = ?1",
        params![name],
    )?;
    let split = |s: String| s.split(',').map(str::to_owned).collect::<Vec<_>>();
    for c in constraints {
        if c.get::<String>(1)? == SQLITE_ROWID {
            continue;
        }
        match c.get::<String>(0)?.as_str() {
            "f" => {
                let key = (split(c.get(1)?), c.get(2)?, split(c.get(3)?));
                table.foreign_keys.insert(key);
            }
            "u" => {
                table.unique.insert(split(c.get(1)?));
            }
            "c" => table.checks += 1,
            _ => {}
        }
    }
    // Unique indexes made by CREATE UNIQUE INDEX rather than a constraint.
    let indexes = sql.rows(
        "SELECT array_to_string(ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n
                    ORDER BY k.i), ',')
         FROM pg_index ix
         JOIN pg_class rel ON rel.oid = ix.indrelid
         JOIN pg_namespace ns ON ns.oid = rel.relnamespace
         WHERE ns.nspname = current_schema() AND rel.relname = ?1
           AND ix.indisunique AND NOT ix.indisprimary
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid)",
        params![name],
    )?;
    for i in indexes {
        table.unique.insert(split(i.get(0)?));
    }
    Ok(table)
}

//! What `synapse seed` sets aside while it loads an empty SQLite database (see
//! `store::bulk_load`), and restores:
//! - secondary indexes: SQLite builds an index from sorted rows far faster than it updates it
//!   row by row;
//! - the insert triggers of derived data (name words, trigram index, tallies): these are
//!   derived once at the end, by `derived_data_rebuild.sql`.
//!
//! The definitions are recorded in the transaction that drops them, so an interrupted load
//! leaves them recorded and the next start restores everything.

use super::SqliteStore;
use crate::store::StoreResult;
use crate::store::bulk_load::{BULK_LOAD_SETTING, LOADED_TABLES, rebuild_statements};

/// The insert triggers that keep derived data, dropped while a load runs.
const DEFERRED_TRIGGERS: [&str; 4] = [
    "patient_name_words_insert",
    "patient_trigrams_insert",
    "patient_tallies_insert",
    "report_tallies_insert",
];

/// Derives the data of the [`DEFERRED_TRIGGERS`] from the rows.
const DERIVED_DATA_REBUILD: &str = include_str!("derived_data_rebuild.sql");

/// Sets aside the secondary indexes and derived-data triggers of the loaded tables when the
/// database holds no patients yet, recording their definitions first. Returns whether it did.
pub(super) async fn prepare(store: &SqliteStore) -> StoreResult<bool> {
    let mut tx = store.write_tx().await?;
    let has_patients: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM patients)")
        .fetch_one(&mut *tx)
        .await?;
    let recorded: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM settings WHERE key = $1)")
            .bind(BULK_LOAD_SETTING)
            .fetch_one(&mut *tx)
            .await?;
    if has_patients || recorded {
        tx.rollback().await?;
        return Ok(false);
    }
    // Indexes SQLite made for a PRIMARY KEY or UNIQUE constraint have no SQL; unique indexes
    // are constraints too, so both stay.
    let tables = serde_json::Value::from(LOADED_TABLES.as_slice()).to_string();
    let triggers = serde_json::Value::from(DEFERRED_TRIGGERS.as_slice()).to_string();
    // Indexes first: derived data is rebuilt before any of them, triggers after.
    let set_aside: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT type, name, sql FROM sqlite_schema
         WHERE (type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
                AND tbl_name IN (SELECT value FROM json_each($1)))
            OR (type = 'trigger' AND name IN (SELECT value FROM json_each($2)))
         ORDER BY type, name",
    )
    .bind(tables)
    .bind(triggers)
    .fetch_all(&mut *tx)
    .await?;
    let definitions: Vec<&str> = set_aside.iter().map(|(_, _, sql)| sql.as_str()).collect();
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
        .bind(BULK_LOAD_SETTING)
        .bind(serde_json::Value::from(definitions).to_string())
        .execute(&mut *tx)
        .await?;
    for (kind, name, _) in &set_aside {
        // The names come from the database's own catalog.
        let kind = if kind == "index" { "INDEX" } else { "TRIGGER" };
        let drop = format!("DROP {kind} \"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn recorded(pool: &sqlx::SqlitePool) -> StoreResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM settings WHERE key = $1)")
            .bind(BULK_LOAD_SETTING)
            .fetch_one(pool)
            .await?,
    )
}

/// Derives the data the triggers would have kept, then rebuilds the indexes and triggers
/// recorded by [`prepare`], if any. Returns how many it rebuilt.
pub(super) async fn finish(store: &SqliteStore) -> StoreResult<usize> {
    // Every start asks; only a recorded set takes the writer's turn.
    if !recorded(&store.pool).await? {
        return Ok(0);
    }
    let mut tx = store.write_tx().await?;
    let recorded: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
        .bind(BULK_LOAD_SETTING)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(recorded) = recorded else {
        tx.rollback().await?;
        return Ok(0);
    };
    let statements = rebuild_statements(&recorded)?;
    sqlx::raw_sql(DERIVED_DATA_REBUILD)
        .execute(&mut *tx)
        .await?;
    for statement in &statements {
        // Definitions the database wrote itself when they were set aside.
        sqlx::query(sqlx::AssertSqlSafe(statement.as_str()))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM settings WHERE key = $1")
        .bind(BULK_LOAD_SETTING)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(statements.len())
}

//! The secondary indexes `synapse seed` sets aside while it loads an empty SQLite database (see
//! `store::bulk_load`): SQLite builds an index from sorted rows far faster than it updates it
//! row by row. The definitions are recorded in the transaction that drops the indexes, so an
//! interrupted load leaves them recorded and the next start builds them.
//!
//! The triggers keeping derived data stay on: deriving the data once at the end cost as much
//! as the triggers during a million-patient load (583 s against 590 s).

use super::SqliteStore;
use crate::store::StoreResult;
use crate::store::bulk_load::{BULK_LOAD_SETTING, LOADED_TABLES, quoted, rebuild_statements};

/// Drops the secondary indexes of the loaded tables when the database holds no patients yet,
/// recording their definitions first. Returns whether it did.
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
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
           AND tbl_name IN (SELECT value FROM json_each($1))
         ORDER BY name",
    )
    .bind(tables)
    .fetch_all(&mut *tx)
    .await?;
    let definitions: Vec<&str> = indexes.iter().map(|(_, sql)| sql.as_str()).collect();
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
        .bind(BULK_LOAD_SETTING)
        .bind(serde_json::Value::from(definitions).to_string())
        .execute(&mut *tx)
        .await?;
    for (name, _) in &indexes {
        // The names come from the database's own catalog.
        let drop = format!("DROP INDEX {}", quoted(name));
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

/// Builds the indexes recorded by [`prepare`], if any. Returns how many it built.
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

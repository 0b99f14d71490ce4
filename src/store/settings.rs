//! The store's own small state, on either engine: the health check, the key/value settings
//! (markers such as "the demo data is loaded") and the next MRN number. Writes run in a write
//! transaction, which on SQLite also takes the writer's turn.

use super::engine::Engine;
use super::sql::{self, Conn, Statement, WriteTx};
use super::{StoreError, StoreResult};

pub async fn ping(engine: &impl Engine) -> StoreResult<()> {
    let select = Statement::new("SELECT 1 AS value");
    engine
        .read(move |conn| Box::pin(async move { conn.scalar(&select).await.map(|_| ()) }))
        .await
}

/// Whether the database takes writes, as `Store::writable` tells: a write transaction that
/// changes nothing but still needs the write lock and the privileges a server uses (a change
/// to the data and an audit row), rolled back; then the engine's own files
/// (`Engine::check_writable`).
pub async fn writable(engine: &impl Engine) -> StoreResult<()> {
    let probe = async {
        let mut tx = engine.write_tx().await?;
        tx.execute(&Statement::new(
            "UPDATE settings SET value = value WHERE FALSE",
        ))
        .await?;
        tx.execute(&Statement::new(
            "INSERT INTO audit_events SELECT * FROM audit_events WHERE FALSE",
        ))
        .await?;
        tx.rollback().await
    };
    probe.await.map_err(|error| StoreError::NotWritable {
        file: engine.data_file_name(),
        reason: error.to_string(),
    })?;
    engine.check_writable().await
}

pub async fn setting(engine: &impl Engine, key: &str) -> StoreResult<Option<String>> {
    let select = Statement::new("SELECT value FROM settings WHERE key = $1").arg(key);
    engine
        .read(move |conn| {
            Box::pin(async move { conn.first(&select, |row| sql::text(row, "value")).await })
        })
        .await
}

/// Runs one statement in a write transaction; answers how many rows it changed.
async fn write(engine: &impl Engine, statement: &Statement) -> StoreResult<u64> {
    let mut tx = engine.write_tx().await?;
    let changed = tx.execute(statement).await?;
    tx.commit().await?;
    Ok(changed)
}

pub async fn set_setting(engine: &impl Engine, key: &str, value: &str) -> StoreResult<()> {
    let upsert = Statement::new(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .arg(key)
    .arg(value);
    write(engine, &upsert).await?;
    Ok(())
}

/// Stores `value` under `key` unless the key is already set; answers whether it was stored.
pub async fn claim_setting(engine: &impl Engine, key: &str, value: &str) -> StoreResult<bool> {
    let insert = Statement::new(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .arg(key)
    .arg(value);
    Ok(write(engine, &insert).await? == 1)
}

/// The MRN number after the highest one given so far.
pub async fn next_mrn_seq(engine: &impl Engine) -> StoreResult<i64> {
    let select = Statement::new("SELECT COALESCE(MAX(mrn_seq), 0) + 1 AS value FROM patients");
    engine
        .read(move |conn| Box::pin(async move { conn.scalar(&select).await }))
        .await
        .map(|next| next.unwrap_or(1))
}

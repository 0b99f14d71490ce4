//! What `synapse seed` sets aside while it loads an empty PostgreSQL database, and restores:
//! - secondary indexes: building an index once over the loaded rows costs a fraction of
//!   updating it row by row, above all the trigram (GIN) indexes;
//! - foreign keys: checking each row as it arrives is a third of a load's time, while adding
//!   the constraint back checks every row in one join;
//! - the insert triggers of derived data (name words, tallies): these are derived once at the
//!   end (`derived_data_rebuild`, migration 0004), and batches loading side by side no longer
//!   queue on the same tally rows.
//!
//! Index and key definitions are recorded in `settings` in the transaction that drops them, so
//! a load that is interrupted leaves them recorded, and the next start of a server (or the end
//! of the next load) restores everything. Unique indexes stay: they are what makes ids unique.

use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgPool;

use crate::store::StoreResult;
use crate::store::bulk_load::{BULK_LOAD_SETTING, LOADED_TABLES, quoted, rebuild_statements};

/// The insert triggers that keep derived data, off while a load runs: (table, trigger).
const DEFERRED_TRIGGERS: [(&str, &str); 3] = [
    ("patients", "patient_name_words_insert"),
    ("patients", "patient_tallies_insert"),
    ("reports", "report_tallies_insert"),
];

/// Turns the triggers of [`DEFERRED_TRIGGERS`] on or off.
async fn switch_triggers(conn: &mut sqlx::PgConnection, on: bool) -> StoreResult<()> {
    let verb = if on { "ENABLE" } else { "DISABLE" };
    for (table, trigger) in DEFERRED_TRIGGERS {
        // Fixed names from this file.
        let alter = format!("ALTER TABLE {table} {verb} TRIGGER {trigger}");
        sqlx::query(sqlx::AssertSqlSafe(alter))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Taken while indexes are set aside or built, so two loads or starting servers take turns.
const BULK_LOAD_LOCK: i64 = 0x5359_4E41_5053_4958;

/// Sets aside the secondary indexes, foreign keys and derived-data triggers of the loaded
/// tables when the database holds no patients yet, recording the definitions first. Returns
/// whether it did.
pub(super) async fn prepare(pool: &PgPool) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(BULK_LOAD_LOCK)
        .execute(&mut *tx)
        .await?;
    let has_patients: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM patients)")
        .fetch_one(&mut *tx)
        .await?;
    let recorded: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM settings WHERE key = $1)")
            .bind(BULK_LOAD_SETTING)
            .fetch_one(&mut *tx)
            .await?;
    if has_patients || recorded {
        return Ok(false);
    }
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT ix.relname::text, pg_get_indexdef(i.indexrelid)
         FROM pg_index i
         JOIN pg_class ix ON ix.oid = i.indexrelid
         JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relname = ANY($1) AND t.relnamespace = current_schema()::regnamespace
           AND NOT i.indisunique AND NOT i.indisprimary
         ORDER BY ix.relname",
    )
    .bind(LOADED_TABLES.as_slice())
    .fetch_all(&mut *tx)
    .await?;
    let foreign_keys: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.relname::text, c.conname::text,
                format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname,
                       pg_get_constraintdef(c.oid))
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         WHERE c.contype = 'f' AND t.relname = ANY($1)
           AND t.relnamespace = current_schema()::regnamespace
         ORDER BY t.relname, c.conname",
    )
    .bind(LOADED_TABLES.as_slice())
    .fetch_all(&mut *tx)
    .await?;
    let definitions: Vec<&str> = indexes
        .iter()
        .map(|(_, sql)| sql.as_str())
        .chain(foreign_keys.iter().map(|(_, _, sql)| sql.as_str()))
        .collect();
    sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
        .bind(BULK_LOAD_SETTING)
        .bind(serde_json::Value::from(definitions).to_string())
        .execute(&mut *tx)
        .await?;
    switch_triggers(&mut tx, false).await?;
    // The names come from the database's own catalog.
    for (table, constraint, _) in &foreign_keys {
        let drop = format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            quoted(table),
            quoted(constraint)
        );
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut *tx)
            .await?;
    }
    for (name, _) in &indexes {
        let drop = format!("DROP INDEX {}", quoted(name));
        sqlx::query(sqlx::AssertSqlSafe(drop))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// How many indexes are built at once: a trigram (GIN) index builds on one core.
const INDEX_BUILDERS: usize = 2;

/// Builds what [`prepare`] set aside, if anything, then vacuums and analyzes the loaded tables.
/// Returns how many indexes and constraints it built.
pub(super) async fn finish(pool: &PgPool) -> StoreResult<usize> {
    // Every start asks; only a recorded set takes the lock.
    if recorded(pool).await?.is_none() {
        return Ok(0);
    }
    // One restorer at a time (another instance starting, or the load itself), held on a
    // connection of its own across the steps; it ends with that connection if the process dies.
    let mut lock = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(BULK_LOAD_LOCK)
        .execute(&mut *lock)
        .await?;
    let restored = restore(pool).await;
    let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(BULK_LOAD_LOCK)
        .execute(&mut *lock)
        .await;
    let built = restored?;
    unlocked?;
    Ok(built)
}

async fn recorded(pool: &PgPool) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(BULK_LOAD_SETTING)
            .fetch_optional(pool)
            .await?,
    )
}

/// The restore in three steps. The first two may run again after an interruption (the derived
/// data is rebuilt from the rows, indexes are `IF NOT EXISTS`); the third adds the foreign keys
/// and forgets the record in one transaction.
async fn restore(pool: &PgPool) -> StoreResult<usize> {
    let Some(recorded) = recorded(pool).await? else {
        return Ok(0);
    };
    let (indexes, constraints): (Vec<String>, Vec<String>) = rebuild_statements(&recorded)?
        .into_iter()
        .partition(|sql| sql.starts_with("CREATE INDEX"));
    let built = indexes.len() + constraints.len();

    // Derived data first, so its own indexes are built over it rather than updated.
    let mut tx = pool.begin().await?;
    switch_triggers(&mut tx, true).await?;
    sqlx::query("SELECT derived_data_rebuild()")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    futures_util::stream::iter(indexes.into_iter().map(|sql| build_index(pool, sql)))
        .buffer_unordered(INDEX_BUILDERS)
        .try_collect::<Vec<()>>()
        .await?;

    let mut tx = pool.begin().await?;
    for statement in &constraints {
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

    // The visibility map makes index-only scans skip the table, and the statistics give the
    // planner the real sizes. A few seconds for a million patients; VACUUM needs to run
    // outside a transaction.
    let vacuum = format!("VACUUM (ANALYZE) {}", LOADED_TABLES.join(", "));
    sqlx::query(sqlx::AssertSqlSafe(vacuum))
        .execute(pool)
        .await?;
    Ok(built)
}

/// Builds one recorded index (`CREATE INDEX IF NOT EXISTS …`) in a transaction of its own.
async fn build_index(pool: &PgPool, statement: String) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    // A sort in memory instead of on disk; the setting ends with the transaction.
    sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    // A definition the database wrote itself when the index was set aside.
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

//! Seals again every stored value that is not under the current data key (`store::cipher`):
//! values stored in clear before encryption existed (at the first start after the upgrade,
//! which the migrations ask for with `RESEAL_SETTING`), and values under an older key
//! (`synapse admin rotate-key`).
//!
//! It works in batches of rows, each its own transaction, while servers go on writing: every
//! update is a compare-and-set on the value it read (`CAST(column AS TEXT)`, the same text on
//! both engines), so a value a server changed meanwhile is left as that server wrote it (under
//! the key that server has), and the next pass looks at it again.

use uuid::Uuid;

use super::cipher::{self, Keyring, PREFIX};
use super::engine::Engine;
use super::sql::{self, Conn, Statement, Value, WriteTx};
use super::{StoreError, StoreResult};

/// The `settings` key a migration sets when stored values are to be sealed; removed by the
/// pass that finds nothing left to seal.
pub const RESEAL_SETTING: &str = "encryption_due";

/// Rows read (and at most updated) per transaction.
const BATCH: i64 = 500;

/// How a sealed column stores its value.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    /// A JSON column: the sealed JSON text as a JSON string (`cipher::seal_json`).
    Json,
}

/// A table with sealed columns.
struct SealedTable {
    table: &'static str,
    /// The column a row is found by (a UUID).
    key: &'static str,
    columns: &'static [(&'static str, Kind)],
}

/// Every sealed column, by table.
const SEALED: &[SealedTable] = &[
    SealedTable {
        table: "patients",
        key: "id",
        columns: &[
            ("phone", Kind::Text),
            ("email", Kind::Text),
            ("address", Kind::Text),
            ("referred_by", Kind::Text),
            ("allergies", Kind::Json),
            ("alerts", Kind::Json),
        ],
    },
    SealedTable {
        table: "consultations",
        key: "id",
        columns: &[("chief_complaint", Kind::Text), ("notes", Kind::Text)],
    },
    SealedTable {
        table: "reports",
        key: "id",
        columns: &[("content", Kind::Json)],
    },
    SealedTable {
        table: "report_addenda",
        key: "id",
        columns: &[("text", Kind::Text)],
    },
    // The second factor's shared secret (`server::mfa`).
    SealedTable {
        table: "user_mfa",
        key: "user_id",
        columns: &[("secret", Kind::Text)],
    },
];

/// The key a stored value is under: `None` for a value in clear, `Some(id)` else.
fn key_of(raw: &str, kind: Kind) -> Option<String> {
    match kind {
        Kind::Text => cipher::key_id_of(raw).map(str::to_string),
        Kind::Json => match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::String(text)) if text.starts_with(PREFIX) => {
                cipher::key_id_of(&text).map(str::to_string)
            }
            _ => None,
        },
    }
}

/// The value sealed under the current key, as the column binds it.
fn sealed_again(ring: &Keyring, raw: &str, kind: Kind) -> StoreResult<Value> {
    match kind {
        Kind::Text => Ok(Value::Text(Some(ring.seal(&ring.open(raw)?)))),
        Kind::Json => {
            let plain = match serde_json::from_str::<serde_json::Value>(raw) {
                Ok(serde_json::Value::String(text)) if text.starts_with(PREFIX) => {
                    ring.open(&text)?
                }
                Ok(_) => raw.to_string(),
                Err(_) => return Err(StoreError::Corrupt("a JSON column holds no JSON".into())),
            };
            Ok(Value::Json(Some(serde_json::Value::String(
                ring.seal(&plain),
            ))))
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Values sealed again.
    pub sealed: u64,
    /// Values a server changed between the read and the update, left for the next pass.
    pub skipped: u64,
}

/// One pass over every sealed column: each value not under the current key is sealed under it.
pub async fn pass(engine: &impl Engine) -> StoreResult<Pass> {
    let ring = cipher::installed().ok_or(StoreError::NoKeys)?;
    let current = ring.current_id().to_string();
    let mut done = Pass::default();
    for SealedTable {
        table,
        key,
        columns,
    } in SEALED
    {
        let mut after: Option<Uuid> = None;
        loop {
            let mut select = Statement::new(format!("SELECT {key} AS id"));
            for (column, _) in columns.iter() {
                select.push(format!(", CAST({column} AS TEXT) AS {column}"));
            }
            select.push(format!(" FROM {table} WHERE TRUE"));
            if let Some(after) = after {
                select.push(format!(" AND {key} > ")).bind(after);
            }
            select.push(format!(" ORDER BY {key} LIMIT ")).bind(BATCH);
            let mut tx = engine.write_tx().await?;
            let rows = tx
                .rows(&select, |row| {
                    let id = sql::uuid(row, "id")?;
                    let values = columns
                        .iter()
                        .map(|(column, _)| sql::opt_text(row, column))
                        .collect::<StoreResult<Vec<_>>>()?;
                    Ok((id, values))
                })
                .await?;
            for (id, values) in &rows {
                let mut update = Statement::new(format!("UPDATE {table} SET "));
                let mut guards: Vec<(&str, &str)> = Vec::new();
                let mut changed = 0;
                for ((column, kind), raw) in columns.iter().zip(values) {
                    let Some(raw) = raw else { continue };
                    if key_of(raw, *kind).as_deref() == Some(current.as_str()) {
                        continue;
                    }
                    if changed > 0 {
                        update.push(", ");
                    }
                    update
                        .push(format!("{column} = "))
                        .bind(sealed_again(&ring, raw, *kind)?);
                    guards.push((column, raw.as_str()));
                    changed += 1;
                }
                if changed == 0 {
                    continue;
                }
                update.push(format!(" WHERE {key} = ")).bind(*id);
                for (column, raw) in guards {
                    update
                        .push(format!(" AND CAST({column} AS TEXT) = "))
                        .bind(raw);
                }
                if tx.execute(&update).await? == 1 {
                    done.sealed += changed;
                } else {
                    done.skipped += changed;
                }
            }
            tx.commit().await?;
            match rows.last() {
                Some((id, _)) if rows.len() as i64 == BATCH => after = Some(*id),
                _ => break,
            }
        }
    }
    Ok(done)
}

/// Passes until one finds nothing under another key (or in clear), at most `passes` times;
/// answers the passes' totals and whether it got there.
pub async fn until_done(engine: &impl Engine, passes: u32) -> StoreResult<(Pass, bool)> {
    let mut total = Pass::default();
    for n in 0..passes {
        let one = pass(engine).await?;
        total.sealed += one.sealed;
        total.skipped += one.skipped;
        if one == Pass::default() {
            return Ok((total, true));
        }
        if n + 1 < passes && one.sealed == 0 {
            // Only values servers keep changing are left: give them time to take up the key.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    Ok((total, false))
}

/// At start, after an upgrade: seals what is stored in clear if a migration asked for it.
/// Without keys (a command that needs none) it waits for a start that has them.
pub async fn run_if_due(engine: &impl Engine) -> StoreResult<u64> {
    if cipher::installed().is_none() {
        return Ok(0);
    }
    let due = Statement::new("SELECT value FROM settings WHERE key = $1").arg(RESEAL_SETTING);
    let mut tx = engine.write_tx().await?;
    let is_due = tx.first(&due, |_| Ok(())).await?.is_some();
    tx.rollback().await?;
    if !is_due {
        return Ok(0);
    }
    let (pass, done) = until_done(engine, 10).await?;
    if done {
        let mut tx = engine.write_tx().await?;
        let clear = Statement::new("DELETE FROM settings WHERE key = $1").arg(RESEAL_SETTING);
        tx.execute(&clear).await?;
        tx.commit().await?;
    }
    Ok(pass.sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_of_a_stored_value() {
        assert_eq!(key_of("enc:v1:k2:AAAA", Kind::Text).as_deref(), Some("k2"));
        assert_eq!(key_of("clear", Kind::Text), None);
        assert_eq!(
            key_of("\"enc:v1:k1:AAAA\"", Kind::Json).as_deref(),
            Some("k1")
        );
        assert_eq!(key_of("[\"penicillin\"]", Kind::Json), None);
    }

    #[test]
    fn clear_json_is_sealed_as_its_text() {
        let ring = Keyring::parse(&cipher::new_key_file(), "t").unwrap();
        let Value::Json(Some(serde_json::Value::String(sealed))) =
            sealed_again(&ring, "[\"penicillin\"]", Kind::Json).unwrap()
        else {
            panic!("not a sealed JSON string");
        };
        assert_eq!(ring.open(&sealed).unwrap(), "[\"penicillin\"]");
    }
}

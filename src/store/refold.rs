//! Brings the search columns of the stored patients (`values::SearchColumns`) up to the way
//! they are derived now, after a migration that changed the derivation: SQLite's 0008 and
//! PostgreSQL's 0006, when search began to ignore diacritics as well as case.
//!
//! The fold is Unicode work that SQL cannot do the same way on both engines: SQLite has no
//! decomposition at all and its `lower()` folds ASCII only; PostgreSQL's `lower()` follows the
//! database's locale (ASCII only under "C") and `normalize()` needs a UTF-8 database. A stored
//! form that differs from the term's fold by one character misses the patient, so such a
//! migration only records that a refold is due (`REFOLD_SETTING`), and it runs here, at start,
//! through the very function new rows and search terms go through. The triggers on `patients`
//! then carry the new forms into the name words and the trigram index.

use uuid::Uuid;

use super::StoreResult;
use super::engine::Engine;
use super::sql::{self, Conn, Statement, WriteTx};
use super::values::SearchColumns;

/// The `settings` key a migration sets when the search columns are to be derived again; the
/// refold removes it in the transaction of its last batch, so an interrupted refold goes on at
/// the next start.
pub const REFOLD_SETTING: &str = "search_refold_due";

/// Patients read (and at most updated) per transaction.
const BATCH: i64 = 500;

/// A patient's search columns as stored, and as derived now from what was typed.
struct Refold {
    id: Uuid,
    mrn_seq: i64,
    stored: SearchColumns,
    derived: SearchColumns,
}

fn read(row: &dyn sql::Row) -> StoreResult<Refold> {
    Ok(Refold {
        id: sql::uuid(row, "id")?,
        mrn_seq: sql::int(row, "mrn_seq")?,
        stored: SearchColumns {
            name_folded: sql::text(row, "name_folded")?,
            name_sort: sql::text(row, "name_sort")?,
            phone_digits: sql::text(row, "phone_digits")?,
            phone_last4: sql::text(row, "phone_last4")?,
            email_folded: sql::text(row, "email_folded")?,
        },
        derived: SearchColumns::of(
            &sql::text(row, "full_name")?,
            sql::sealed_opt_text(row, "phone")?.as_deref(),
            sql::sealed_opt_text(row, "email")?.as_deref(),
        )?,
    })
}

/// One `UPDATE … FROM` for the stale rows of a batch (both engines accept it), so a batch
/// costs one statement, not one per row.
fn update(stale: &[&Refold]) -> Statement {
    let mut update = Statement::new(
        "UPDATE patients SET name_folded = v.name_folded, name_sort = v.name_sort, \
         phone_digits = v.phone_digits, email_folded = v.email_folded, \
         phone_last4 = v.phone_last4 FROM (",
    );
    for (n, row) in stale.iter().enumerate() {
        update.push(if n == 0 {
            "SELECT "
        } else {
            " UNION ALL SELECT "
        });
        update
            .bind(row.id)
            .push(" AS id, ")
            .bind(row.derived.name_folded.as_str())
            .push(" AS name_folded, ")
            .bind(row.derived.name_sort.as_str())
            .push(" AS name_sort, ")
            .bind(row.derived.phone_digits.as_str())
            .push(" AS phone_digits, ")
            .bind(row.derived.email_folded.as_str())
            .push(" AS email_folded, ")
            .bind(row.derived.phone_last4.as_str())
            .push(" AS phone_last4");
    }
    update.push(") AS v WHERE patients.id = v.id");
    update
}

/// Refolds every patient if a migration asked for it; answers how many rows changed.
pub async fn run_if_due(engine: &impl Engine) -> StoreResult<u64> {
    // The contact columns are blind indexes under the index key: without keys (a command that
    // needs none) the refold waits for a start that has them.
    if super::cipher::installed().is_none() {
        return Ok(0);
    }
    let due = Statement::new("SELECT value FROM settings WHERE key = $1").arg(REFOLD_SETTING);
    let mut tx = engine.write_tx().await?;
    if tx.first(&due, |_| Ok(())).await?.is_none() {
        tx.rollback().await?;
        return Ok(0);
    }
    let mut refolded = 0;
    let mut after = 0_i64;
    loop {
        // Locked (on PostgreSQL), so an edit through another instance meanwhile waits and then
        // writes its own, already current, forms.
        let select = Statement::new(format!(
            "SELECT id, mrn_seq, full_name, phone, email, name_folded, name_sort, phone_digits, \
             email_folded, phone_last4 FROM patients WHERE mrn_seq > $1 ORDER BY mrn_seq LIMIT $2{}",
            tx.dialect().lock_rows()
        ))
        .arg(after)
        .arg(BATCH);
        let batch = tx.rows(&select, read).await?;
        let stale: Vec<&Refold> = batch.iter().filter(|r| r.stored != r.derived).collect();
        if !stale.is_empty() {
            refolded += tx.execute(&update(&stale)).await?;
        }
        match batch.last() {
            Some(last) if batch.len() as i64 == BATCH => {
                after = last.mrn_seq;
                tx.commit().await?;
                tx = engine.write_tx().await?;
            }
            _ => {
                let done =
                    Statement::new("DELETE FROM settings WHERE key = $1").arg(REFOLD_SETTING);
                tx.execute(&done).await?;
                tx.commit().await?;
                return Ok(refolded);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::Value;

    #[test]
    fn the_migrations_that_ask_for_a_refold_name_its_setting() {
        for migration in [
            include_str!("../../migrations/sqlite/0008_search_fold.sql"),
            include_str!("../../migrations/postgres/0006_search_fold.sql"),
        ] {
            assert!(migration.contains(&format!("'{REFOLD_SETTING}'")));
        }
    }

    #[test]
    fn one_update_refolds_a_batch() {
        crate::store::cipher::install_for_tests();
        let row = |n: u128, name: &str| Refold {
            id: Uuid::from_u128(n),
            mrn_seq: n as i64,
            stored: SearchColumns::of("", None, None).unwrap(),
            derived: SearchColumns::of(name, None, Some("Jo@Example.org")).unwrap(),
        };
        let rows = [row(1, "Hans Müller"), row(2, "Ana Gómez")];
        let statement = update(&rows.iter().collect::<Vec<_>>());
        assert_eq!(
            statement.sql(),
            "UPDATE patients SET name_folded = v.name_folded, name_sort = v.name_sort, \
             phone_digits = v.phone_digits, email_folded = v.email_folded, \
             phone_last4 = v.phone_last4 FROM (SELECT $1 AS id, \
             $2 AS name_folded, $3 AS name_sort, $4 AS phone_digits, $5 AS email_folded, \
             $6 AS phone_last4 UNION ALL SELECT $7 AS id, $8 AS name_folded, $9 AS name_sort, \
             $10 AS phone_digits, $11 AS email_folded, $12 AS phone_last4) AS v \
             WHERE patients.id = v.id"
        );
        assert_eq!(statement.values().len(), 12);
        assert_eq!(statement.values()[1], Value::from(" hans muller"));
        assert_eq!(statement.values()[2], Value::from(" muller hans"));
        // The email's blind index, never the email.
        let email = crate::store::cipher::blind("jo@example.org").unwrap();
        assert_eq!(statement.values()[4], Value::from(email.as_str()));
    }
}

//! The names of the doctors patients are assigned to, kept in memory for the patient
//! summaries.
//!
//! Every patient summary shows its doctor's name. Read with each row (a subquery on `users`
//! per summary) it cost the patient list 18 % of its instructions per request. A user's full
//! name is written once, when the account is created, and never changed (no statement
//! updates `users.full_name`, and users are never deleted), so a name read once stays right
//! for as long as the process runs, on every instance. Should names ever become editable,
//! the edit must also reach this cache on every instance (the live events can carry it).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use uuid::Uuid;

use super::StoreResult;
use super::sql::{self, Conn, Statement};
use crate::model::patient::PatientSummary;

/// Doctors' names by user id, shared by every clone of a store.
#[derive(Clone, Default)]
pub struct DoctorNames {
    known: Arc<RwLock<HashMap<Uuid, Arc<str>>>>,
}

impl DoctorNames {
    /// Writes each summary's doctor name, reading the names not known yet in one statement
    /// on `conn`.
    pub(crate) async fn fill(
        &self,
        conn: &mut impl Conn,
        summaries: &mut [PatientSummary],
    ) -> StoreResult<()> {
        let mut missing = self.fill_known(summaries);
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_unstable();
        missing.dedup();
        let mut select = Statement::new("SELECT id, full_name FROM users WHERE id IN (");
        for (i, id) in missing.iter().enumerate() {
            if i > 0 {
                select.push(", ");
            }
            select.bind(*id);
        }
        select.push(")");
        let found = conn
            .rows(&select, |r| {
                Ok((
                    sql::uuid(r, "id")?,
                    Arc::<str>::from(sql::text(r, "full_name")?),
                ))
            })
            .await?;
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(found);
        self.fill_known(summaries);
        Ok(())
    }

    /// Writes the names already known; answers the doctors whose names are not.
    fn fill_known(&self, summaries: &mut [PatientSummary]) -> Vec<Uuid> {
        // A panic elsewhere while holding the lock leaves the map as it was: still right.
        let known = self
            .known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut missing = Vec::new();
        for summary in summaries.iter_mut() {
            match known.get(&summary.doctor.id) {
                Some(name) => {
                    if summary.doctor.full_name.is_empty() {
                        summary.doctor.full_name.push_str(name);
                    }
                }
                None => missing.push(summary.doctor.id),
            }
        }
        missing
    }
}

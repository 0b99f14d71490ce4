//! Bulk loading of synthetic data on PostgreSQL: each table's rows of a batch stream in with one
//! `COPY … FROM STDIN` (text format), all in one transaction: one round trip per table instead of
//! one statement per row. Into an empty database, `synapse seed` sets the secondary indexes,
//! foreign keys and derived data aside first (`bulk_load`), so most of the time is the rows
//! themselves, and batches go in side by side on several connections.

use std::fmt::Write as _;

use sqlx::PgConnection;
use uuid::Uuid;

use super::PgStore;
use super::patients::{MRN_LOCK, last_visit};
use crate::model::time::format_timestamp;
use crate::store::cipher;
use crate::store::synth::{SynthConsultation, SynthPatient, SynthReport};
use crate::store::values::SearchColumns;
use crate::store::{StoreError, StoreResult};

/// One row of COPY text: fields separated by tabs, `\N` for NULL, and backslash, tab, newline
/// and carriage return escaped as COPY reads them.
#[derive(Default)]
struct CopyRows {
    text: String,
    fields_in_row: usize,
}

impl CopyRows {
    fn field(&mut self, value: Option<&str>) -> &mut CopyRows {
        if self.fields_in_row > 0 {
            self.text.push('\t');
        }
        self.fields_in_row += 1;
        match value {
            None => self.text.push_str("\\N"),
            Some(value) => {
                for c in value.chars() {
                    match c {
                        '\\' => self.text.push_str("\\\\"),
                        '\t' => self.text.push_str("\\t"),
                        '\n' => self.text.push_str("\\n"),
                        '\r' => self.text.push_str("\\r"),
                        c => self.text.push(c),
                    }
                }
            }
        }
        self
    }

    fn text(&mut self, value: &str) -> &mut CopyRows {
        self.field(Some(value))
    }

    fn display(&mut self, value: impl std::fmt::Display) -> &mut CopyRows {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = write!(text, "{value}");
        self.field(Some(&text))
    }

    fn end_row(&mut self) {
        self.text.push('\n');
        self.fields_in_row = 0;
    }
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Streams `rows` into the table with `statement` (a `COPY … FROM STDIN`).
async fn copy(conn: &mut PgConnection, statement: &str, rows: CopyRows) -> StoreResult<()> {
    if rows.text.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    let sent = copy.send(rows.text.into_bytes()).await.map(|_| ());
    if let Err(error) = sent {
        // Ends the COPY so the connection (and the transaction's rollback) stays usable.
        let _ = copy.abort("synthetic data could not be sent").await;
        return Err(error.into());
    }
    copy.finish().await?;
    Ok(())
}

pub(super) async fn insert_synthetic(
    store: &PgStore,
    doctor_ids: &[Uuid],
    patients: &[SynthPatient],
) -> StoreResult<()> {
    let doctor_of = |p: &SynthPatient| {
        doctor_ids
            .get(p.doctor_index)
            .copied()
            .ok_or_else(|| StoreError::Corrupt("synthetic patient without a doctor".into()))
    };
    let stamp = format_timestamp;
    let mut tx = store.write_tx().await?;
    // The plan numbered these patients; creating a patient meanwhile would take a number twice.
    // Shared: batches of one load go in side by side, while a new patient's number waits.
    sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
        .bind(MRN_LOCK)
        .execute(&mut *tx)
        .await?;

    let mut rows = CopyRows::default();
    for p in patients {
        let doctor = doctor_of(p)?;
        let visited = p.consultations.iter().map(|c| c.started_at).max();
        let search = SearchColumns::of(&p.full_name, p.phone.as_deref(), p.email.as_deref())?;
        rows.display(p.id)
            .display(doctor)
            .display(p.mrn_seq)
            .text(&format!("MRN-{:06}", p.mrn_seq))
            .text(&p.full_name)
            .text(&search.name_folded)
            .display(p.date_of_birth)
            .text(p.sex.as_str())
            .field(cipher::seal_opt(p.phone.as_deref())?.as_deref())
            .text(&search.phone_digits)
            .field(cipher::seal_opt(p.email.as_deref())?.as_deref())
            .text(&search.email_folded)
            .field(cipher::seal_opt(p.address.as_deref())?.as_deref())
            .field(cipher::seal_opt(p.referred_by.as_deref())?.as_deref())
            .field(
                p.illness_duration
                    .as_ref()
                    .map(json)
                    .transpose()?
                    .as_deref(),
            )
            .text(&json(&cipher::seal_json(&p.allergies)?)?)
            .text(&json(&cipher::seal_json(&p.alerts)?)?)
            .text(&json(&p.symptoms)?)
            .text(&last_visit(visited))
            .text(&stamp(p.created_at))
            .text(&stamp(p.created_at))
            .text(&search.name_sort)
            .text(&search.phone_last4)
            .end_row();
    }
    copy(
        &mut tx,
        "COPY patients (id, doctor_id, mrn_seq, mrn, full_name, name_folded, date_of_birth, sex,
             phone, phone_digits, email, email_folded, address, referred_by, illness_duration,
             allergies, alerts, symptoms, last_visit_at, created_at, updated_at, name_sort,
             phone_last4)
         FROM STDIN",
        rows,
    )
    .await?;

    let consultations: Vec<(&SynthPatient, &SynthConsultation)> = patients
        .iter()
        .flat_map(|p| p.consultations.iter().map(move |c| (p, c)))
        .collect();
    let mut rows = CopyRows::default();
    for (p, c) in &consultations {
        rows.display(c.id)
            .text(&c.session_code)
            .display(p.id)
            .display(doctor_of(p)?)
            .text(c.session_type.as_str())
            .text(c.status.as_str())
            .field(cipher::seal_opt(c.chief_complaint.as_deref())?.as_deref())
            .text(&cipher::seal(&c.notes)?)
            .text(&stamp(c.started_at))
            .field(c.ended_at.map(stamp).as_deref())
            .field(c.cancel_reason.as_deref())
            .text(&stamp(c.ended_at.unwrap_or(c.started_at)))
            .end_row();
    }
    copy(
        &mut tx,
        "COPY consultations (id, session_code, patient_id, doctor_id, session_type, status,
             chief_complaint, notes, started_at, ended_at, cancel_reason, updated_at) FROM STDIN",
        rows,
    )
    .await?;

    let reports: Vec<(&SynthPatient, &SynthConsultation, &SynthReport)> = consultations
        .iter()
        .filter_map(|(p, c)| c.report.as_ref().map(|r| (*p, *c, r)))
        .collect();
    let mut rows = CopyRows::default();
    for (p, c, r) in &reports {
        let doctor = doctor_of(p)?;
        let signer = r.signed_at.map(|_| doctor.to_string());
        rows.display(r.id)
            .display(c.id)
            .display(p.id)
            .display(doctor)
            .text(c.session_type.as_str())
            .text(r.status.as_str())
            .text("consultation")
            .field(r.confidence.map(|c| c.to_string()).as_deref())
            .display(r.version)
            .text(&json(&cipher::seal_json(&r.content)?)?)
            .field(r.generator.as_deref())
            .field(r.failure_reason.as_deref())
            .field(r.signed_at.map(stamp).as_deref())
            .field(signer.as_deref())
            .text(&stamp(r.created_at))
            .text(&stamp(r.updated_at))
            .end_row();
    }
    copy(
        &mut tx,
        "COPY reports (id, consultation_id, patient_id, doctor_id, session_type, status,
             report_type, confidence, version, content, generator, failure_reason, signed_at,
             signed_by, created_at, updated_at) FROM STDIN",
        rows,
    )
    .await?;

    let mut rows = CopyRows::default();
    for (p, _, r) in &reports {
        let doctor = doctor_of(p)?;
        for a in &r.addenda {
            rows.display(a.id)
                .display(r.id)
                .display(doctor)
                .text(&cipher::seal(&a.text)?)
                .text(&stamp(a.created_at))
                .end_row();
        }
    }
    copy(
        &mut tx,
        "COPY report_addenda (id, report_id, author_id, text, created_at) FROM STDIN",
        rows,
    )
    .await?;

    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_reads_specially() {
        let mut rows = CopyRows::default();
        rows.text("a\tb\\c\nd\re").field(None).display(7).end_row();
        assert_eq!(rows.text, "a\\tb\\\\c\\nd\\re\t\\N\t7\n");
    }
}

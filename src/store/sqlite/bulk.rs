//! Bulk loading of synthetic data on SQLite: multi-row inserts inside one transaction per batch,
//! so a hundred thousand patients load in seconds.

use sqlx::QueryBuilder;
use sqlx::sqlite::Sqlite;
use uuid::Uuid;

use super::SqliteStore;
use crate::model::time::format_timestamp;
use crate::store::cipher;
use crate::store::synth::{SynthConsultation, SynthPatient, SynthReport};
use crate::store::values::SearchColumns;
use crate::store::{StoreError, StoreResult};

/// Rows per INSERT statement: well under SQLite's limit of 32,766 bound values.
const ROWS_PER_STATEMENT: usize = 400;

fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    format_timestamp(at)
}

pub(super) async fn insert_synthetic(
    store: &SqliteStore,
    doctor_ids: &[Uuid],
    patients: &[SynthPatient],
) -> StoreResult<()> {
    let doctor_of = |p: &SynthPatient| {
        doctor_ids
            .get(p.doctor_index)
            .copied()
            .ok_or_else(|| StoreError::Corrupt("synthetic patient without a doctor".into()))
    };
    let mut tx = store.write_tx().await?;

    for chunk in patients.chunks(ROWS_PER_STATEMENT) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO patients (id, doctor_id, mrn_seq, mrn, full_name, name_folded, date_of_birth,
                 sex, phone, phone_digits, email, email_folded, address, referred_by, illness_duration,
                 allergies, alerts, symptoms, last_visit_at, created_at, updated_at, name_sort,
                 phone_last4) ",
        );
        let mut values = Vec::with_capacity(chunk.len());
        for p in chunk {
            let last_visit = p
                .consultations
                .iter()
                .map(|c| c.started_at)
                .max()
                .map(stamp)
                .unwrap_or_default();
            values.push((
                (
                    p,
                    Sealed {
                        phone: cipher::seal_opt(p.phone.as_deref())?,
                        email: cipher::seal_opt(p.email.as_deref())?,
                        address: cipher::seal_opt(p.address.as_deref())?,
                        referred_by: cipher::seal_opt(p.referred_by.as_deref())?,
                    },
                ),
                SearchColumns::of(&p.full_name, p.phone.as_deref(), p.email.as_deref())?,
                doctor_of(p)?,
                last_visit,
                p.illness_duration.as_ref().map(json_text).transpose()?,
                json_text(&cipher::seal_json(&p.allergies)?)?,
                json_text(&cipher::seal_json(&p.alerts)?)?,
                json_text(&p.symptoms)?,
            ));
        }
        sql.push_values(
            values,
            |mut row, ((p, sealed), search, doctor, last_visit, illness, allergies, alerts, symptoms)| {
                row.push_bind(p.id.to_string())
                    .push_bind(doctor.to_string())
                    .push_bind(p.mrn_seq)
                    .push_bind(format!("MRN-{:06}", p.mrn_seq))
                    .push_bind(p.full_name.clone())
                    .push_bind(search.name_folded)
                    .push_bind(p.date_of_birth.to_string())
                    .push_bind(p.sex.as_str())
                    .push_bind(sealed.phone)
                    .push_bind(search.phone_digits)
                    .push_bind(sealed.email)
                    .push_bind(search.email_folded)
                    .push_bind(sealed.address)
                    .push_bind(sealed.referred_by)
                    .push_bind(illness)
                    .push_bind(allergies)
                    .push_bind(alerts)
                    .push_bind(symptoms)
                    .push_bind(last_visit)
                    .push_bind(stamp(p.created_at))
                    .push_bind(stamp(p.created_at))
                    .push_bind(search.name_sort)
                    .push_bind(search.phone_last4);
            },
        );
        sql.build().execute(&mut *tx).await?;
    }

    let consultations: Vec<(&SynthPatient, &SynthConsultation)> = patients
        .iter()
        .flat_map(|p| p.consultations.iter().map(move |c| (p, c)))
        .collect();
    for chunk in consultations.chunks(ROWS_PER_STATEMENT) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO consultations (id, session_code, patient_id, doctor_id, session_type, status,
                 chief_complaint, notes, started_at, ended_at, cancel_reason, updated_at) ",
        );
        let mut values = Vec::with_capacity(chunk.len());
        for (p, c) in chunk {
            let sealed = (
                cipher::seal_opt(c.chief_complaint.as_deref())?,
                cipher::seal(&c.notes)?,
            );
            values.push((*p, *c, doctor_of(p)?, sealed));
        }
        sql.push_values(values, |mut row, (p, c, doctor, (complaint, notes))| {
            row.push_bind(c.id.to_string())
                .push_bind(c.session_code.clone())
                .push_bind(p.id.to_string())
                .push_bind(doctor.to_string())
                .push_bind(c.session_type.as_str())
                .push_bind(c.status.as_str())
                .push_bind(complaint)
                .push_bind(notes)
                .push_bind(stamp(c.started_at))
                .push_bind(c.ended_at.map(stamp))
                .push_bind(c.cancel_reason.clone())
                .push_bind(stamp(c.ended_at.unwrap_or(c.started_at)));
        });
        sql.build().execute(&mut *tx).await?;
    }

    let reports: Vec<(&SynthPatient, &SynthConsultation, &SynthReport)> = consultations
        .iter()
        .filter_map(|(p, c)| c.report.as_ref().map(|r| (*p, *c, r)))
        .collect();
    for chunk in reports.chunks(ROWS_PER_STATEMENT) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO reports (id, consultation_id, patient_id, doctor_id, session_type, status,
                 report_type, confidence, version, content, generator, failure_reason, signed_at,
                 signed_by, created_at, updated_at) ",
        );
        let mut values = Vec::with_capacity(chunk.len());
        for (p, c, r) in chunk {
            values.push((
                *p,
                *c,
                *r,
                doctor_of(p)?,
                json_text(&cipher::seal_json(&r.content)?)?,
            ));
        }
        sql.push_values(values, |mut row, (p, c, r, doctor, content)| {
            let signer = r.signed_at.map(|_| doctor.to_string());
            row.push_bind(r.id.to_string())
                .push_bind(c.id.to_string())
                .push_bind(p.id.to_string())
                .push_bind(doctor.to_string())
                .push_bind(c.session_type.as_str())
                .push_bind(r.status.as_str())
                .push_bind("consultation")
                .push_bind(r.confidence)
                .push_bind(i64::from(r.version))
                .push_bind(content)
                .push_bind(r.generator.clone())
                .push_bind(r.failure_reason.clone())
                .push_bind(r.signed_at.map(stamp))
                .push_bind(signer)
                .push_bind(stamp(r.created_at))
                .push_bind(stamp(r.updated_at));
        });
        sql.build().execute(&mut *tx).await?;
    }

    let addenda: Vec<_> = reports
        .iter()
        .flat_map(|(p, _, r)| r.addenda.iter().map(move |a| (*p, *r, a)))
        .collect();
    for chunk in addenda.chunks(ROWS_PER_STATEMENT) {
        let mut sql = QueryBuilder::<Sqlite>::new(
            "INSERT INTO report_addenda (id, report_id, author_id, text, created_at) ",
        );
        let mut values = Vec::with_capacity(chunk.len());
        for (p, r, a) in chunk {
            values.push((*r, *a, doctor_of(p)?, cipher::seal(&a.text)?));
        }
        sql.push_values(values, |mut row, (r, a, doctor, text)| {
            row.push_bind(a.id.to_string())
                .push_bind(r.id.to_string())
                .push_bind(doctor.to_string())
                .push_bind(text)
                .push_bind(stamp(a.created_at));
        });
        sql.build().execute(&mut *tx).await?;
    }

    tx.commit().await?;
    Ok(())
}

/// A patient's contacts as stored: sealed (`store::cipher`).
struct Sealed {
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    referred_by: Option<String>,
}

/// A value as the text of a JSON column.
fn json_text<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

//! Exports: a report, or a patient's whole record, read for rendering outside the system. Each
//! is read through the same ownership paths as the reads it discloses (`ReportStatements`,
//! `patients::fetch_chart`, `consultations::history_statements`: a doctor's own records only,
//! anything else answers `NotFound` and is audited as refused), and audited as one disclosure,
//! `report.export.<format>` or `patient.export.<format>`, rather than as the reads inside it.
//! The audit row names the record and the format, never what it holds.

use uuid::Uuid;

use super::consultations::{consultation, history_statements};
use super::engine::{Engine, audit_read, deny};
use super::patients::fetch_chart;
use super::reports::ReportStatements;
use super::sql::{self, Conn, Statement};
use super::{Actor, StoreResult};
use crate::model::export::{ExportFormat, ExportedReport, PatientRecord};

/// The audit action of exporting a `kind` (`report`, `patient`) as `format`.
pub fn action(kind: &str, format: ExportFormat) -> String {
    format!("{kind}.export.{}", format.as_str())
}

/// At most this many consultations and reports go into one record export; a record longer
/// than this is cut at the newest, which a chart this size would not print anyway.
const RECORD_LIMIT: u32 = 2_000;

pub async fn report(
    engine: &impl Engine,
    actor: &Actor,
    id: Uuid,
    format: ExportFormat,
) -> StoreResult<ExportedReport> {
    let action = action("report", format);
    let statements = ReportStatements::new(engine.dialect(), actor, id, false);
    let doctor_names = engine.doctor_names().clone();
    let doctor_id = actor.user_id;
    let found = engine
        .read(move |conn| {
            Box::pin(async move {
                let Some(report) = statements.read(conn).await? else {
                    return Ok(None);
                };
                let patient_id = report.summary.patient.id;
                let chart =
                    fetch_chart(conn, &doctor_names, Some(doctor_id), patient_id, false).await?;
                Ok(Some(ExportedReport {
                    report,
                    allergies: chart.map(|p| p.allergies),
                }))
            })
        })
        .await?;
    let Some(exported) = found else {
        return Err(deny(engine, actor, &action, ("report", id)).await);
    };
    audit_read(
        engine,
        actor,
        &action,
        ("report", Some(id.to_string())),
        Some(exported.report.summary.patient.id),
    )
    .await?;
    Ok(exported)
}

pub async fn record(
    engine: &impl Engine,
    actor: &Actor,
    patient_id: Uuid,
    format: ExportFormat,
) -> StoreResult<PatientRecord> {
    record_as(engine, actor, patient_id, &action("patient", format)).await
}

/// The whole record read for an interface that discloses it as one (the FHIR API's
/// `Patient/{id}/$everything`): the same reads, audited as `patient.everything`.
pub async fn everything(
    engine: &impl Engine,
    actor: &Actor,
    patient_id: Uuid,
) -> StoreResult<PatientRecord> {
    record_as(engine, actor, patient_id, "patient.everything").await
}

async fn record_as(
    engine: &impl Engine,
    actor: &Actor,
    patient_id: Uuid,
    action: &str,
) -> StoreResult<PatientRecord> {
    let doctor_names = engine.doctor_names().clone();
    let dialect = engine.dialect();
    let reader = actor.clone();
    let found = engine
        .read(move |conn| {
            Box::pin(async move {
                let Some(patient) =
                    fetch_chart(conn, &doctor_names, Some(reader.user_id), patient_id, false)
                        .await?
                else {
                    return Ok(None);
                };
                let (select, _) = history_statements(&reader, patient_id, RECORD_LIMIT, 0);
                let consultations = conn.rows(&select, |r| consultation(r, false)).await?;
                let ids = Statement::new(
                    "SELECT r.id FROM reports r WHERE r.patient_id = $1 AND r.doctor_id = $2
                     ORDER BY r.created_at, r.id LIMIT $3",
                )
                .arg(patient_id)
                .arg(reader.user_id)
                .arg(i64::from(RECORD_LIMIT));
                let ids = conn.rows(&ids, |r| sql::uuid(r, "id")).await?;
                let mut reports = Vec::with_capacity(ids.len());
                for id in ids {
                    let statements = ReportStatements::new(dialect, &reader, id, false);
                    if let Some(report) = statements.read(conn).await? {
                        reports.push(report);
                    }
                }
                Ok(Some(PatientRecord {
                    patient,
                    consultations,
                    reports,
                }))
            })
        })
        .await?;
    let Some(record) = found else {
        return Err(deny(engine, actor, action, ("patient", patient_id)).await);
    };
    audit_read(
        engine,
        actor,
        action,
        ("patient", Some(patient_id.to_string())),
        Some(patient_id),
    )
    .await?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::action;
    use crate::model::export::ExportFormat;

    #[test]
    fn the_action_names_the_kind_and_format() {
        assert_eq!(action("report", ExportFormat::Pdf), "report.export.pdf");
        assert_eq!(action("patient", ExportFormat::Md), "patient.export.md");
    }
}

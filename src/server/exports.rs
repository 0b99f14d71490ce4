//! `/reports/{id}/export` and `/patients/{id}/export`: a report, or a patient's record, rendered
//! by the server (`crate::export`) to Markdown or PDF. Read through the same ownership paths
//! as the reads they disclose, and audited as a disclosure of their own (`store::exports`).
//! The file name carries the MRN and the date, never the patient's name.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{PathId, Query};
use crate::export::{self, ExportKind};
use crate::model::auth::Role;
use crate::model::export::{ExportFormat, ExportParams};
use crate::model::time::now;

/// The answer: the bytes, their type, and the file name to save them as. `no-store`: a
/// patient's record must not stay in a shared cache or a browser's.
fn attachment(bytes: Vec<u8>, format: ExportFormat, file_name: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// Renders off the async threads: a long record's PDF takes a moment of CPU.
async fn rendered(
    render: impl FnOnce() -> Result<Vec<u8>, export::ExportError> + Send + 'static,
) -> Result<Vec<u8>, ApiError> {
    tokio::task::spawn_blocking(render)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Export a report
///
/// The report rendered by the server: `format=md` answers `text/markdown; charset=utf-8`,
/// `format=pdf` an A4 PDF with the patient banner on every page, page numbers, the signer and
/// signing time, the addenda, and "DRAFT — NOT SIGNED" across an unsigned report. Not
/// enveloped on success; `Content-Disposition` names the file by MRN and date. Audited as
/// `report.export.md` / `report.export.pdf`.
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}/export",
    tag = "reports",
    operation_id = "exportReport",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the report."), ExportParams),
    responses(
        (status = 200, description = "The rendered report, as a file to save.", content(
            (String = "text/markdown; charset=utf-8"),
            (String = "application/pdf"),
        )),
    ),
)]
pub async fn report(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let format = params.format;
    let exported = app.store.export_report(&actor, id, format).await?;
    let at = now();
    let file_name = export::file_name(
        &exported.report.summary.patient.mrn,
        ExportKind::Report,
        at.date_naive(),
        format,
    );
    let bytes = rendered(move || export::report(&exported, format, at)).await?;
    Ok(attachment(bytes, format, file_name))
}

/// Export a patient's record
///
/// The chart (banner, allergies, alerts), the consultations and every report with its addenda,
/// rendered by the server as `export_report` renders one. Audited as `patient.export.md` /
/// `patient.export.pdf`.
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/export",
    tag = "patients",
    operation_id = "exportPatientRecord",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the patient."), ExportParams),
    responses(
        (status = 200, description = "The rendered record, as a file to save.", content(
            (String = "text/markdown; charset=utf-8"),
            (String = "application/pdf"),
        )),
    ),
)]
pub async fn record(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Query(params): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    let format = params.format;
    let record = app.store.export_record(&actor, id, format).await?;
    let at = now();
    let file_name = export::file_name(
        &record.patient.summary.mrn,
        ExportKind::Record,
        at.date_naive(),
        format,
    );
    let bytes = rendered(move || export::patient_record(&record, format, at)).await?;
    Ok(attachment(bytes, format, file_name))
}

//! Exports: a report or a patient's record as the file the server renders (`GET
//! /reports/{id}/export`, `/patients/{id}/export`), or the record as the FHIR API's
//! `$everything` Bundle. Not enveloped on success, so these bypass the JSON decoding of the
//! other calls; errors are enveloped as usual, or OperationOutcomes from the FHIR API.

use reqwest::{StatusCode, header};
use uuid::Uuid;

use super::error::{ApiError, ErrorKind};
use super::{ApiClient, decode};
use crate::model::envelope::{ErrorBody, ErrorEnvelope};
use crate::model::export::ExportFormat;

/// Which API answers a download, and so how its failures read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    /// The API's own: the error envelope.
    Api,
    /// The FHIR API: an OperationOutcome carrying the same code and message.
    Fhir,
}

/// What an export answered: the file's bytes, and the name the server gave it (the MRN, what
/// it is and the date, never the patient's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The `filename` of a `Content-Disposition: attachment; filename="…"`, if it is a plain name
/// (no directory), else `None`.
fn file_name_of(disposition: &str) -> Option<String> {
    let name = disposition
        .split(';')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("filename="))?
        .trim_matches('"');
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plain.then(|| name.to_string())
}

impl ApiClient {
    /// Report `id` rendered as `format`.
    pub async fn export_report(
        &self,
        id: Uuid,
        format: ExportFormat,
    ) -> Result<ExportFile, ApiError> {
        self.download(
            &format!("/api/v1/reports/{id}/export?format={}", format.as_str()),
            &format!("export.{}", format.extension()),
            Answered::Api,
        )
        .await
    }

    /// The record of patient `id` rendered as `format`.
    pub async fn export_patient_record(
        &self,
        id: Uuid,
        format: ExportFormat,
    ) -> Result<ExportFile, ApiError> {
        self.download(
            &format!("/api/v1/patients/{id}/export?format={}", format.as_str()),
            &format!("export.{}", format.extension()),
            Answered::Api,
        )
        .await
    }

    /// The record of patient `id` as the FHIR API's `Patient/{id}/$everything` Bundle, named
    /// `<MRN>-record-<date>.fhir.json` by the MRN the Bundle's Patient carries.
    pub async fn fhir_everything(&self, id: Uuid) -> Result<ExportFile, ApiError> {
        let mut file = self
            .download(
                &format!("/fhir/r4/Patient/{id}/$everything"),
                "record.fhir.json",
                Answered::Fhir,
            )
            .await?;
        let bundle: serde_json::Value = serde_json::from_slice(&file.bytes)
            .map_err(|_| ApiError::protocol("-", StatusCode::OK.as_u16()))?;
        let mrn = bundle["entry"][0]["resource"]["identifier"][0]["value"].as_str();
        if let Some(mrn) = mrn {
            file.file_name = fhir_file_name(mrn, chrono::Local::now().date_naive());
        }
        Ok(file)
    }

    /// One GET of a file, with a refresh and one retry when the access token has expired.
    async fn download(
        &self,
        path: &str,
        fallback_name: &str,
        answered: Answered,
    ) -> Result<ExportFile, ApiError> {
        let mut refreshed = false;
        loop {
            let token = self.fresh_access_token().await?;
            match self
                .download_once(path, fallback_name, answered, &token)
                .await
            {
                Err(e) if e.kind == ErrorKind::TokenExpired && !refreshed => {
                    refreshed = true;
                    self.refresh_after(&token).await?;
                }
                other => return other,
            }
        }
    }

    async fn download_once(
        &self,
        path: &str,
        fallback_name: &str,
        answered: Answered,
        token: &str,
    ) -> Result<ExportFile, ApiError> {
        let request_id = Uuid::now_v7().to_string();
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(url)
            .header("x-request-id", &request_id)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| self.send_error(&e, &request_id))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                ApiError::timeout(&request_id)
            } else {
                ApiError::unreachable(&request_id)
            }
        })?;
        if status != StatusCode::OK {
            let retry_after = headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if answered == Answered::Fhir
                && let Some(envelope) = envelope_of_outcome(&bytes, &headers)
            {
                return Err(ApiError::from_envelope(envelope, retry_after));
            }
            // Not a success: the envelope's error (an unexpected success body is refused too).
            decode::<serde_json::Value>(status, &bytes, retry_after, &request_id)?;
            return Err(ApiError::protocol(&request_id, status.as_u16()));
        }
        let file_name = headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(file_name_of)
            .unwrap_or_else(|| fallback_name.to_string());
        Ok(ExportFile {
            file_name,
            bytes: bytes.to_vec(),
        })
    }
}

/// The envelope an OperationOutcome of the FHIR API stands for: the same code and message,
/// and the request id of its header.
fn envelope_of_outcome(bytes: &[u8], headers: &header::HeaderMap) -> Option<ErrorEnvelope> {
    let outcome: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let (code, message) = crate::model::envelope::fhir_outcome_error(&outcome)?;
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    Some(ErrorEnvelope {
        status: "error".to_string(),
        error: ErrorBody {
            code,
            message,
            details: serde_json::Value::Object(serde_json::Map::new()),
        },
        request_id,
    })
}

/// `MRN-004211-record-2026-12-02.fhir.json`: named like the server's exports, by the MRN
/// (anything but ASCII letters, digits and `-` as `_`) and never the patient's name.
fn fhir_file_name(mrn: &str, date: chrono::NaiveDate) -> String {
    let mrn: String = mrn
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{mrn}-record-{date}.fhir.json")
}

#[cfg(test)]
mod tests {
    use super::{fhir_file_name, file_name_of};

    #[test]
    fn a_fhir_record_is_named_by_a_safe_mrn_and_the_date() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        assert_eq!(
            fhir_file_name("MRN-004211", date),
            "MRN-004211-record-2026-12-02.fhir.json"
        );
        assert_eq!(
            fhir_file_name("../x y", date),
            "___x_y-record-2026-12-02.fhir.json"
        );
    }

    #[test]
    fn only_a_plain_file_name_is_taken_from_the_disposition() {
        assert_eq!(
            file_name_of("attachment; filename=\"MRN-1-report-2026-12-02.pdf\"").as_deref(),
            Some("MRN-1-report-2026-12-02.pdf")
        );
        assert_eq!(file_name_of("attachment; filename=\"../etc/passwd\""), None);
        assert_eq!(file_name_of("attachment"), None);
    }
}

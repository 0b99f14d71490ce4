//! Exports: a report or a patient's record as the file the server renders (`GET
//! /reports/{id}/export`, `/patients/{id}/export`). Not enveloped on success, so these bypass
//! the JSON decoding of the other calls; errors are enveloped as usual.

use reqwest::{StatusCode, header};
use uuid::Uuid;

use super::error::{ApiError, ErrorKind};
use super::{ApiClient, decode};
use crate::model::export::ExportFormat;

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
        self.download(&format!("/api/v1/reports/{id}/export"), format)
            .await
    }

    /// The record of patient `id` rendered as `format`.
    pub async fn export_patient_record(
        &self,
        id: Uuid,
        format: ExportFormat,
    ) -> Result<ExportFile, ApiError> {
        self.download(&format!("/api/v1/patients/{id}/export"), format)
            .await
    }

    /// One GET of a file, with a refresh and one retry when the access token has expired.
    async fn download(&self, path: &str, format: ExportFormat) -> Result<ExportFile, ApiError> {
        let mut refreshed = false;
        loop {
            let token = self.fresh_access_token().await?;
            match self.download_once(path, format, &token).await {
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
        format: ExportFormat,
        token: &str,
    ) -> Result<ExportFile, ApiError> {
        let request_id = Uuid::now_v7().to_string();
        let url = format!("{}{path}?format={}", self.base, format.as_str());
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
            // Not a success: the envelope's error (an unexpected success body is refused too).
            decode::<serde_json::Value>(status, &bytes, retry_after, &request_id)?;
            return Err(ApiError::protocol(&request_id, status.as_u16()));
        }
        let file_name = headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .and_then(file_name_of)
            .unwrap_or_else(|| format!("export.{}", format.extension()));
        Ok(ExportFile {
            file_name,
            bytes: bytes.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::file_name_of;

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

//! One typed method per endpoint of API.md.

use reqwest::Method;
use uuid::Uuid;

use super::{ApiClient, ApiError, Call, to_json};
use crate::model::admin::{
    AdminUser, AuditEvent, MfaReset, NewUser, PasswordReset, SessionsRevoked,
};
use crate::model::auth::*;
use crate::model::consultation::*;
use crate::model::page::{Page, SearchResults};
use crate::model::patient::*;
use crate::model::query::*;
use crate::model::report::*;

/// `GET /health`, `/ready`: the only bodies without the envelope.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OpsStatus {
    pub status: String,
}

impl ApiClient {
    // --- auth

    /// Logs in and keeps the session on this client.
    pub async fn login(&self, email: &str, password: &str) -> Result<User, ApiError> {
        let body = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
        };
        let tokens: Tokens = self
            .run(Call {
                method: Method::POST,
                path: "/api/v1/auth/login".into(),
                query: None,
                body: Some(to_json(&body)?),
                authenticated: false,
            })
            .await?;
        self.adopt(tokens)
    }

    /// The second step of a login that answered `ErrorKind::MfaRequired`: the code of the
    /// authenticator app (or a recovery code) with the login's token; keeps the session.
    pub async fn verify_mfa(&self, mfa_token: &str, code: &str) -> Result<User, ApiError> {
        let body = MfaVerifyRequest {
            mfa_token: mfa_token.to_string(),
            code: code.to_string(),
        };
        let tokens: Tokens = self
            .run(Call {
                method: Method::POST,
                path: "/api/v1/auth/mfa/verify".into(),
                query: None,
                body: Some(to_json(&body)?),
                authenticated: false,
            })
            .await?;
        self.adopt(tokens)
    }

    /// Starts enrolling a second factor: the secret to put in an authenticator app.
    pub async fn enroll_mfa(&self) -> Result<MfaEnrollment, ApiError> {
        self.write::<_, ()>(Method::POST, "/api/v1/auth/mfa/enroll".into(), None)
            .await
    }

    /// Confirms the enrolment with the app's first code; answers the recovery codes.
    pub async fn confirm_mfa(&self, code: &str) -> Result<MfaRecoveryCodes, ApiError> {
        let body = MfaConfirmRequest {
            code: code.to_string(),
        };
        let codes = self
            .write(Method::POST, "/api/v1/auth/mfa/confirm".into(), Some(&body))
            .await?;
        // Enrolled: whatever the login said, nothing is due any more.
        if let Ok(mut slot) = self.state.session.lock()
            && let Some(session) = slot.as_mut()
        {
            session.enrolment_due = false;
        }
        Ok(codes)
    }

    /// Ends the session on the server and forgets it here, even if the server is unreachable.
    pub async fn logout(&self) -> Result<LoggedOut, ApiError> {
        let result = self
            .write::<LoggedOut, LogoutRequest>(Method::POST, "/api/v1/auth/logout".into(), None)
            .await;
        self.forget_session();
        result
    }

    pub async fn me(&self) -> Result<User, ApiError> {
        self.get::<User, ()>("/api/v1/auth/me".into(), None).await
    }

    /// The caller's open sessions, newest first.
    pub async fn list_sessions(&self) -> Result<SessionList, ApiError> {
        self.get::<SessionList, ()>("/api/v1/auth/sessions".into(), None)
            .await
    }

    /// Ends one of the caller's sessions (another workstation's, say).
    pub async fn end_session(&self, id: Uuid) -> Result<SessionEnded, ApiError> {
        self.write::<_, ()>(Method::DELETE, format!("/api/v1/auth/sessions/{id}"), None)
            .await
    }

    pub async fn change_password(
        &self,
        current: &str,
        new: &str,
    ) -> Result<PasswordChanged, ApiError> {
        let body = ChangePasswordRequest {
            current_password: current.to_string(),
            new_password: new.to_string(),
        };
        self.write(
            Method::POST,
            "/api/v1/auth/change-password".into(),
            Some(&body),
        )
        .await
    }

    // --- patients

    pub async fn list_patients(
        &self,
        params: &PatientListParams,
    ) -> Result<Page<PatientSummary>, ApiError> {
        self.get("/api/v1/patients/list/".into(), Some(params))
            .await
    }

    pub async fn search_patients(
        &self,
        q: &str,
        limit: Option<u32>,
    ) -> Result<SearchResults<PatientSummary>, ApiError> {
        let params = PatientSearchParams {
            q: Some(q.to_string()),
            limit,
        };
        self.get("/api/v1/patients/search/".into(), Some(&params))
            .await
    }

    pub async fn get_patient(&self, id: Uuid) -> Result<Patient, ApiError> {
        self.get::<_, ()>(format!("/api/v1/patients/{id}"), None)
            .await
    }

    pub async fn create_patient(&self, patient: &NewPatient) -> Result<Patient, ApiError> {
        self.write(Method::POST, "/api/v1/patients".into(), Some(patient))
            .await
    }

    /// The active doctors (receptionist, admin).
    pub async fn list_doctors(&self) -> Result<Vec<DoctorSummary>, ApiError> {
        self.get::<_, ()>("/api/v1/doctors".into(), None).await
    }

    pub async fn update_patient(
        &self,
        id: Uuid,
        update: &PatientUpdate,
    ) -> Result<Patient, ApiError> {
        self.write(
            Method::PATCH,
            format!("/api/v1/patients/{id}"),
            Some(update),
        )
        .await
    }

    // --- consultations

    pub async fn start_consultation(
        &self,
        start: &StartConsultation,
    ) -> Result<Consultation, ApiError> {
        self.write(
            Method::POST,
            "/api/v1/consultation/start".into(),
            Some(start),
        )
        .await
    }

    pub async fn active_consultations(&self) -> Result<ActiveConsultations, ApiError> {
        self.get::<_, ()>("/api/v1/consultation/active".into(), None)
            .await
    }

    pub async fn get_consultation(&self, id: Uuid) -> Result<Consultation, ApiError> {
        self.get::<_, ()>(format!("/api/v1/consultation/{id}"), None)
            .await
    }

    pub async fn update_notes(&self, id: Uuid, notes: &str) -> Result<Consultation, ApiError> {
        let body = NotesUpdate {
            notes: notes.to_string(),
        };
        self.write(
            Method::PATCH,
            format!("/api/v1/consultation/{id}"),
            Some(&body),
        )
        .await
    }

    pub async fn stop_consultation(
        &self,
        id: Uuid,
        notes: Option<&str>,
    ) -> Result<Consultation, ApiError> {
        let body = StopConsultation {
            notes: notes.map(str::to_string),
        };
        self.write(
            Method::POST,
            format!("/api/v1/consultation/{id}/stop"),
            Some(&body),
        )
        .await
    }

    pub async fn cancel_consultation(
        &self,
        id: Uuid,
        reason: &str,
    ) -> Result<Consultation, ApiError> {
        let body = CancelConsultation {
            reason: reason.to_string(),
        };
        self.write(
            Method::POST,
            format!("/api/v1/consultation/{id}/cancel"),
            Some(&body),
        )
        .await
    }

    pub async fn consultation_history(
        &self,
        patient_id: Uuid,
        params: &PageParams,
    ) -> Result<ConsultationHistory, ApiError> {
        self.get(
            format!("/api/v1/consultation/history/{patient_id}"),
            Some(params),
        )
        .await
    }

    // --- reports

    pub async fn list_reports(&self, params: &ReportListParams) -> Result<ReportPage, ApiError> {
        self.get("/api/v1/reports/list".into(), Some(params)).await
    }

    pub async fn report_stats(&self, params: &ReportStatsParams) -> Result<ReportStats, ApiError> {
        self.get("/api/v1/reports/stats".into(), Some(params)).await
    }

    pub async fn get_report(&self, id: Uuid) -> Result<Report, ApiError> {
        self.get::<_, ()>(format!("/api/v1/reports/{id}"), None)
            .await
    }

    pub async fn edit_report(
        &self,
        id: Uuid,
        content: &ReportContent,
        version: u32,
    ) -> Result<Report, ApiError> {
        let body = ReportEdit {
            content: content.clone(),
            version,
        };
        self.write(Method::PATCH, format!("/api/v1/reports/{id}"), Some(&body))
            .await
    }

    /// Signs `version` of the report, the version the doctor was shown; a report changed
    /// since answers `ErrorKind::VersionConflict` and is not signed. `code` is the
    /// authenticator's code, needed when the doctor has a second factor.
    pub async fn sign_report(
        &self,
        id: Uuid,
        version: u32,
        password: &str,
        code: Option<&str>,
    ) -> Result<Report, ApiError> {
        let body = SignReport {
            password: password.to_string(),
            version,
            code: code.map(str::to_string),
        };
        self.write(
            Method::POST,
            format!("/api/v1/reports/{id}/sign"),
            Some(&body),
        )
        .await
    }

    pub async fn add_addendum(&self, id: Uuid, text: &str) -> Result<Report, ApiError> {
        let body = NewAddendum {
            text: text.to_string(),
        };
        self.write(
            Method::POST,
            format!("/api/v1/reports/{id}/addenda"),
            Some(&body),
        )
        .await
    }

    // --- admin

    pub async fn list_users(&self, params: &PageParams) -> Result<Page<AdminUser>, ApiError> {
        self.get("/api/v1/admin/users".into(), Some(params)).await
    }

    pub async fn create_user(&self, user: &NewUser) -> Result<AdminUser, ApiError> {
        self.write(Method::POST, "/api/v1/admin/users".into(), Some(user))
            .await
    }

    pub async fn unlock_user(&self, id: Uuid) -> Result<AdminUser, ApiError> {
        self.write::<_, ()>(
            Method::POST,
            format!("/api/v1/admin/users/{id}/unlock"),
            None,
        )
        .await
    }

    pub async fn disable_user(&self, id: Uuid) -> Result<AdminUser, ApiError> {
        self.write::<_, ()>(
            Method::POST,
            format!("/api/v1/admin/users/{id}/disable"),
            None,
        )
        .await
    }

    pub async fn enable_user(&self, id: Uuid) -> Result<AdminUser, ApiError> {
        self.write::<_, ()>(
            Method::POST,
            format!("/api/v1/admin/users/{id}/enable"),
            None,
        )
        .await
    }

    /// Sets a new password for the account `id`; its sessions end and its lockout is cleared.
    pub async fn reset_password(&self, id: Uuid, password: &str) -> Result<AdminUser, ApiError> {
        let body = PasswordReset {
            password: password.to_string(),
        };
        self.write(
            Method::POST,
            format!("/api/v1/admin/users/{id}/reset-password"),
            Some(&body),
        )
        .await
    }

    /// Ends every session of the account `id`.
    pub async fn revoke_sessions(&self, id: Uuid) -> Result<SessionsRevoked, ApiError> {
        self.write::<_, ()>(
            Method::POST,
            format!("/api/v1/admin/users/{id}/revoke-sessions"),
            None,
        )
        .await
    }

    /// Removes an account's second factor (a lost phone).
    pub async fn reset_mfa(&self, id: Uuid) -> Result<MfaReset, ApiError> {
        self.write::<_, ()>(
            Method::POST,
            format!("/api/v1/admin/users/{id}/reset-mfa"),
            None,
        )
        .await
    }

    pub async fn audit(&self, params: &AuditParams) -> Result<Page<AuditEvent>, ApiError> {
        self.get("/api/v1/admin/audit".into(), Some(params)).await
    }

    // --- operations

    /// `GET /health`: whether the server process answers.
    pub async fn health(&self) -> Result<OpsStatus, ApiError> {
        self.unenveloped("/health").await
    }

    /// `GET /ready`: whether the server's database answers.
    pub async fn ready(&self) -> Result<OpsStatus, ApiError> {
        self.unenveloped("/ready").await
    }

    /// `GET /api/v1/openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value, ApiError> {
        self.unenveloped("/api/v1/openapi.json").await
    }

    /// A GET whose success body is not enveloped (errors still are).
    async fn unenveloped<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        let request_id = uuid::Uuid::now_v7().to_string();
        let transport = |e: reqwest::Error| self.send_error(&e, &request_id);
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-request-id", &request_id)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|_| ApiError::protocol(&request_id, status.as_u16()));
        }
        match serde_json::from_slice::<crate::model::envelope::ErrorEnvelope>(&bytes) {
            Ok(envelope) if envelope.status == "error" => {
                Err(ApiError::from_envelope(envelope, None))
            }
            _ => Err(ApiError::protocol(&request_id, status.as_u16())),
        }
    }
}

//! Every answer in the envelope of API.md: `ApiError` for failures (with a message a person can
//! act on), `Success` and `Created` for data, and the request id they all carry.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::envelope::{FieldError, code};
use crate::store::StoreError;

tokio::task_local! {
    /// The id of the request being served, set by the request-context middleware.
    pub static REQUEST_ID: String;
}

/// The current request's id, or "-" outside a request.
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_string())
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Object(serde_json::Map::new()),
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        // `details` is always an object, so clients can read it without a null check.
        if details.is_object() {
            self.details = details;
        }
        self
    }

    pub fn validation(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{} {}.", one.field, one.message),
            [first, rest @ ..] => format!(
                "{} {} (and {} more field problem{}).",
                first.field,
                first.message,
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
            [] => "The request is not valid.".to_string(),
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code::VALIDATION_ERROR,
            message,
        )
        .with_details(json!({ "fields": fields }))
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            "No such record, or it is not one of yours. Check the id, or search for the patient again.",
        )
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code::UNAUTHENTICATED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, code::FORBIDDEN, message)
    }

    /// A failure of ours: logged with the request id, never shown in detail.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(request_id = %current_request_id(), error = %error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "Something went wrong on the server. Try again; if it keeps happening, give your administrator the request id.",
        )
    }

    /// The envelope for a bare status produced outside our handlers (a layer, axum itself).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => (
                code::NOT_FOUND,
                "There is no such endpoint. See /docs (or /api/v1/openapi.json) for the ones there are.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                code::METHOD_NOT_ALLOWED,
                "This endpoint does not accept that method. See /docs for the ones it does.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                code::PAYLOAD_TOO_LARGE,
                "The request body is larger than 1 MiB. Send less at once.",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                code::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as JSON with Content-Type: application/json.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                code::UNAVAILABLE,
                "The server cannot answer right now. Try again in a moment.",
            ),
            StatusCode::GATEWAY_TIMEOUT => (
                code::UNAVAILABLE,
                "The server took too long to answer. Try again in a moment.",
            ),
            s if s.is_client_error() => (
                code::VALIDATION_ERROR,
                "The request could not be understood. Check it against the reference at /docs.",
            ),
            _ => (
                code::INTERNAL,
                "Something went wrong on the server. Try again; if it keeps happening, give your administrator the request id.",
            ),
        };
        ApiError::new(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict {
                code,
                message,
                details,
            } => ApiError::new(StatusCode::CONFLICT, code, message).with_details(details),
            StoreError::Invalid(fields) => ApiError::validation(fields),
            StoreError::Database(sqlx::Error::PoolTimedOut) | StoreError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                code::UNAVAILABLE,
                "The server is busy. Try again in a moment.",
            ),
            // Logged with the file and the reason; the body says only what the user can do.
            StoreError::NotWritable {
                ref file,
                ref reason,
            } => {
                tracing::error!(%file, %reason, "the database does not take writes");
                ApiError::unwritable()
            }
            StoreError::Database(sqlx::Error::Database(ref refused))
                if refuses_writes(&**refused) =>
            {
                tracing::error!(error = %refused, "the database does not take writes");
                ApiError::unwritable()
            }
            ref full if full.is_disk_full() => {
                tracing::error!(error = %full, "the disk of the database is full");
                ApiError::disk_full()
            }
            // The read's audit row was not stored (the queue's reason is text by then): the
            // read is withheld, and the reason is the database's state, not the request.
            StoreError::Audit(ref reason) => {
                tracing::error!(%reason, "the audit trail could not be written");
                ApiError::database_unreachable()
            }
            // Names the key, never the value; the body tells the operator what to fix.
            StoreError::Key {
                ref key_id,
                problem,
            } => {
                tracing::error!(%key_id, problem, "a stored value cannot be opened with its key");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code::INTERNAL,
                    format!(
                        "Stored data is encrypted under key {key_id}, which cannot open it on this server ({problem}). An administrator must add the right key {key_id} to the server's key file (key_file, SYNAPSE_KEY_FILE or SYNAPSE_DATA_KEYS)."
                    ),
                )
            }
            StoreError::NoKeys => {
                tracing::error!("no data keys are installed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    code::INTERNAL,
                    "The server has no data keys. An administrator must give it a key file (key_file or SYNAPSE_KEY_FILE; make one with `synapse admin keygen`).",
                )
            }
            ref lost if database_unreachable(lost) => {
                tracing::error!(error = %lost, "the database does not answer");
                ApiError::database_unreachable()
            }
            other => ApiError::internal(other),
        }
    }
}

/// Whether the error says the database is gone, not that the request was wrong: no answer to
/// a connection attempt, a connection that broke under the statement, or PostgreSQL shutting
/// down or starting up (SQLSTATE class 08, and 57P01–57P03).
fn database_unreachable(error: &StoreError) -> bool {
    match error {
        StoreError::Unavailable => true,
        StoreError::Database(
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed,
        ) => true,
        StoreError::Database(sqlx::Error::Database(refused)) => {
            let code = refused.code();
            let code = code.as_deref().unwrap_or_default();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        }
        _ => false,
    }
}

/// Whether the database refused a write for want of the right to write (SQLite's READONLY
/// family, PostgreSQL's insufficient privilege or read-only transaction), not for the data.
fn refuses_writes(error: &dyn sqlx::error::DatabaseError) -> bool {
    let code = error.code();
    let code = code.as_deref().unwrap_or_default();
    match code.parse::<i32>() {
        // SQLite's extended codes keep the primary code in the low byte: 8 is READONLY.
        Ok(sqlite) => sqlite & 0xff == 8,
        Err(_) => code == "42501" || code == "25006",
    }
}

impl ApiError {
    /// The disk under the database is full: a 503 that names the cause, so whoever reads it
    /// knows it is not the request.
    fn disk_full() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "The server's disk is full, so changes cannot be stored. Nothing was changed; tell your administrator to free disk space where the database lives, then try again.",
        )
    }

    /// The database does not answer: a 503 at once, rather than a wait that ends in a timeout.
    fn database_unreachable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "The server cannot reach its database right now. Try again in a moment; if a change was being saved, check whether it was stored before sending it again.",
        )
    }

    /// The database does not take writes: a 503 that tells the person what to do.
    fn unwritable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "The server cannot store changes right now. Nothing was changed; try again later, and tell your administrator if it keeps happening.",
        )
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    details: &'a Value,
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    status: &'static str,
    error: ErrorBody<'a>,
    request_id: String,
}

#[derive(Serialize)]
struct SuccessEnvelope<T> {
    status: &'static str,
    data: T,
    request_id: String,
}

impl ApiError {
    /// The envelope's JSON for this error with the given request id, for the answers written
    /// below the router (the listener's).
    pub fn to_body(&self, request_id: &str) -> Vec<u8> {
        serde_json::to_vec(&self.envelope(request_id.to_string())).unwrap_or_default()
    }

    fn envelope(&self, request_id: String) -> ErrorEnvelope<'_> {
        ErrorEnvelope {
            status: "error",
            error: ErrorBody {
                code: self.code,
                message: &self.message,
                details: &self.details,
            },
            request_id,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.envelope(current_request_id());
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// `200 {"status":"success","data":...}`.
pub struct Success<T>(pub T);

/// `201 {"status":"success","data":...}`.
pub struct Created<T>(pub T);

fn envelope<T: Serialize>(status: StatusCode, data: T) -> Response {
    let body = SuccessEnvelope {
        status: "success",
        data,
        request_id: current_request_id(),
    };
    (status, axum::Json(body)).into_response()
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        envelope(StatusCode::OK, self.0)
    }
}

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        envelope(StatusCode::CREATED, self.0)
    }
}

pub type ApiResult<T> = Result<Success<T>, ApiError>;

//! Operations endpoints without auth: liveness, readiness, Prometheus metrics, the OpenAPI
//! document, and the 404 for unknown routes.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

pub async fn health() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

pub async fn ready(State(app): State<AppState>) -> Response {
    match app.store.ping().await {
        Ok(()) => axum::Json(json!({ "status": "ready" })).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "database not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                crate::model::envelope::code::UNAVAILABLE,
                "The database does not answer. The server will recover when it does.",
            )
            .into_response()
        }
    }
}

/// The process-wide metrics recorder, installed on first use.
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            const BUCKETS: [f64; 12] = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ];
            PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

pub async fn metrics() -> Response {
    let body = metrics_handle().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

pub async fn openapi() -> Response {
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    axum::Json(DOCUMENT.get_or_init(super::openapi::document)).into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::from_status(StatusCode::NOT_FOUND)
}

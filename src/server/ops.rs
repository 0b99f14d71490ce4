//! Operations endpoints without auth: liveness, readiness, Prometheus metrics, the OpenAPI
//! document and its browsable reference at `/docs`, and the 404 for unknown routes.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;
use super::openapi;
use crate::model::envelope::{ErrorEnvelope, code};
use crate::store::StoreError;

/// Where the browsable reference is served; its files are under `DOCS_PATH/`.
pub const DOCS_PATH: &str = "/docs";
/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// The answer of `/health` and `/ready`, without the envelope (load balancers read it).
#[derive(Debug, Serialize, ToSchema)]
pub struct OpsStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness
///
/// 200 while the process runs. Not enveloped.
#[utoipa::path(
    get,
    path = "/health",
    tag = "ops",
    operation_id = "health",
    responses((status = 200, description = "The process runs: `{\"status\":\"ok\"}`.", body = OpsStatus)),
)]
pub async fn health() -> Response {
    axum::Json(OpsStatus { status: "ok" }).into_response()
}

/// Readiness
///
/// 200 when the database answers and takes writes, else 503. Not enveloped on success.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "ops",
    operation_id = "ready",
    responses(
        (status = 200, description = "Ready to serve: `{\"status\":\"ready\"}`.", body = OpsStatus),
        (status = 503, description = openapi::errors("Service unavailable", &[code::UNAVAILABLE]), body = ErrorEnvelope),
    ),
)]
pub async fn ready(State(app): State<AppState>) -> Response {
    // Ready means able to store changes, not only to read: a login writes.
    match app.store.writable().await {
        Ok(()) => axum::Json(OpsStatus { status: "ready" }).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "database not ready");
            let message = match error {
                StoreError::NotWritable { .. } => {
                    "The database does not take writes; the server's log says which file and why."
                }
                _ => "The database does not answer. The server will recover when it does.",
            };
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code::UNAVAILABLE, message)
                .into_response()
        }
    }
}

/// How often the recorder's pending histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Upkeep passes done so far (for the test that the upkeep runs).
static UPKEEP_PASSES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Upkeep passes of the metrics recorder so far.
#[cfg(test)]
fn upkeep_passes() -> u64 {
    UPKEEP_PASSES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Folds the recorder's pending histogram samples into their buckets every few seconds. The
/// recorder keeps every sample until a scrape renders it, so a server nobody scrapes grew by
/// every request's timing: about 100 MB over a 30-minute soak. A thread of its own rather
/// than a task, so it outlives any one runtime (tests start many).
fn start_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
                UPKEEP_PASSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    if let Err(error) = started {
        tracing::warn!(error = %error, "no metrics upkeep thread: memory grows until /metrics is scraped");
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
            let handle = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .ok()?
                .install_recorder()
                .ok()?;
            start_upkeep(handle.clone());
            crate::telemetry::describe();
            metrics::describe_counter!(
                "http_requests_total",
                "Requests answered, by method, route pattern and status."
            );
            metrics::describe_histogram!(
                "http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer a request, by method, route pattern and status."
            );
            Some(handle)
        })
        .as_ref()
}

/// Prometheus metrics
///
/// Request counts and latency histograms by route and status; no PHI in labels.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format.", body = String, content_type = "text/plain; version=0.0.4")),
)]
pub async fn metrics(State(app): State<AppState>) -> Response {
    crate::telemetry::before_scrape(app.store.status(), app.events.open_streams());
    let body = metrics_handle().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// This OpenAPI document
///
/// The OpenAPI 3.1 document of this API, not enveloped. `/docs` shows it in a browser.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "ops",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", body = Object)),
)]
pub async fn openapi() -> Response {
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    axum::Json(DOCUMENT.get_or_init(openapi::document)).into_response()
}

/// The Swagger UI configuration: the document to show, and nothing fetched from elsewhere.
fn docs_config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(
                utoipa_swagger_ui::Config::from(OPENAPI_PATH)
                    // The validator badge would send the document to an outside service.
                    .validator_url("none"),
            )
        })
        .clone()
}

/// `GET /docs`: the browsable reference (Swagger UI, served from files built into the binary).
pub async fn docs() -> Response {
    docs_file("")
}

/// `GET /docs/{file}`: the reference's scripts and styles.
pub async fn docs_asset(Path(file): Path<String>) -> Response {
    docs_file(&file)
}

fn docs_file(file: &str) -> Response {
    match utoipa_swagger_ui::serve(file, docs_config()) {
        Ok(Some(found)) => {
            let mut bytes = found.bytes.into_owned();
            if file.is_empty() || file == "index.html" {
                // The page names its files relative to itself (`./swagger-ui.css`); `/docs` is
                // served without a trailing slash, so anchor them under `/docs/`.
                bytes = String::from_utf8_lossy(&bytes)
                    .replacen(
                        "<head>",
                        &format!("<head>\n    <base href=\"{DOCS_PATH}/\">"),
                        1,
                    )
                    .into_bytes();
            }
            let mut response =
                ([(header::CONTENT_TYPE, found.content_type)], bytes).into_response();
            if found.gzpipped {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        Ok(None) => unknown_route().into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// An unknown route: the 404 envelope, pointing at the reference and the document.
pub async fn not_found() -> ApiError {
    unknown_route()
}

fn unknown_route() -> ApiError {
    ApiError::from_status(StatusCode::NOT_FOUND).with_details(serde_json::json!({
        "reference": DOCS_PATH,
        "openapi": OPENAPI_PATH,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recorder is kept in hand by the upkeep, with nobody scraping `/metrics`: without it
    /// every request's timing stayed in memory.
    #[test]
    fn the_recorder_is_upkept_without_a_scrape() {
        assert!(metrics_handle().is_some());
        let before = upkeep_passes();
        let deadline = std::time::Instant::now() + UPKEEP_EVERY * 3;
        while upkeep_passes() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no upkeep pass in {:?}",
                UPKEEP_EVERY * 3
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

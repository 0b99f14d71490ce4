//! The backend: the axum router of API.md over a `Store`. Handlers are thin: parse and validate,
//! call one store method, map the result. Middleware gives every request an id, a log line
//! without patient data, metrics, and an envelope on every answer.

mod admin;
mod auth;
mod consultations;
pub mod error;
mod extract;
pub mod generation;
mod middleware;
pub mod openapi;
mod ops;
mod params;
mod patients;
mod reports;
pub mod settings;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodRouter, get, patch, post};
use tokio::net::TcpListener;
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::store::{LockoutPolicy, Store};

/// The largest request body accepted, as API.md says.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the server needs to run, resolved from defaults, the config file, env and flags.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub jwt_secret: Vec<u8>,
    pub access_token_ttl_s: i64,
    pub refresh_token_ttl_s: i64,
    pub lockout: LockoutPolicy,
    /// How many password hashes may run at once (each takes ~19 MiB and a core for a moment).
    pub hashing_concurrency: usize,
    /// Login attempts allowed per client address per minute before 429.
    pub login_attempts_per_minute: u32,
}

impl ServerConfig {
    /// Settings with the documented defaults and the given signing secret.
    pub fn with_secret(jwt_secret: Vec<u8>) -> ServerConfig {
        ServerConfig {
            jwt_secret,
            access_token_ttl_s: 15 * 60,
            refresh_token_ttl_s: 7 * 24 * 3600,
            lockout: LockoutPolicy {
                threshold: 5,
                duration: chrono::Duration::minutes(15),
            },
            hashing_concurrency: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            login_attempts_per_minute: 60,
        }
    }
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ServerConfig>,
    pub tokens: tokens::TokenKeys,
    pub passwords: tokens::PasswordGate,
    pub generation: generation::GenerationQueue,
    pub login_limiter: Arc<middleware::LoginLimiter>,
}

impl AppState {
    /// Builds the state and starts the report generation worker.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> anyhow::Result<AppState> {
        // Install the metrics recorder now: counters recorded before it exists are lost, so
        // waiting for the first scrape would drop every request before it.
        ops::metrics_handle();
        let tokens = tokens::TokenKeys::new(
            &config.jwt_secret,
            config.access_token_ttl_s,
            config.refresh_token_ttl_s,
        );
        let passwords = tokens::PasswordGate::new(config.hashing_concurrency)?;
        let generation = generation::GenerationQueue::start(store.clone());
        let login_limiter = Arc::new(middleware::LoginLimiter::new(
            config.login_attempts_per_minute,
        ));
        Ok(AppState {
            store,
            config: Arc::new(config),
            tokens,
            passwords,
            generation,
            login_limiter,
        })
    }
}

/// Every route of the API: method, path, handler. The router is built from this list only, so a
/// test that walks it sees every route there is.
pub fn routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::POST, "/api/v1/auth/login", post(auth::login)),
        (Method::POST, "/api/v1/auth/refresh", post(auth::refresh)),
        (Method::POST, "/api/v1/auth/logout", post(auth::logout)),
        (Method::GET, "/api/v1/auth/me", get(auth::me)),
        (
            Method::POST,
            "/api/v1/auth/change-password",
            post(auth::change_password),
        ),
        (Method::GET, "/api/v1/patients/list", get(patients::list)),
        (
            Method::GET,
            "/api/v1/patients/search",
            get(patients::search),
        ),
        (Method::POST, "/api/v1/patients", post(patients::create)),
        (Method::GET, "/api/v1/patients/{id}", get(patients::get)),
        (
            Method::PATCH,
            "/api/v1/patients/{id}",
            patch(patients::update),
        ),
        (
            Method::POST,
            "/api/v1/consultation/start",
            post(consultations::start),
        ),
        (
            Method::GET,
            "/api/v1/consultation/active",
            get(consultations::active),
        ),
        (
            Method::GET,
            "/api/v1/consultation/{id}",
            get(consultations::get),
        ),
        (
            Method::PATCH,
            "/api/v1/consultation/{id}",
            patch(consultations::update_notes),
        ),
        (
            Method::POST,
            "/api/v1/consultation/{id}/stop",
            post(consultations::stop),
        ),
        (
            Method::POST,
            "/api/v1/consultation/{id}/cancel",
            post(consultations::cancel),
        ),
        (
            Method::GET,
            "/api/v1/consultation/history/{patient_id}",
            get(consultations::history),
        ),
        (Method::GET, "/api/v1/reports/list", get(reports::list)),
        (Method::GET, "/api/v1/reports/stats", get(reports::stats)),
        (Method::GET, "/api/v1/reports/{id}", get(reports::get)),
        (Method::PATCH, "/api/v1/reports/{id}", patch(reports::edit)),
        (
            Method::POST,
            "/api/v1/reports/{id}/sign",
            post(reports::sign),
        ),
        (
            Method::POST,
            "/api/v1/reports/{id}/addenda",
            post(reports::add_addendum),
        ),
        (Method::GET, "/api/v1/admin/users", get(admin::list_users)),
        (
            Method::POST,
            "/api/v1/admin/users",
            post(admin::create_user),
        ),
        (
            Method::POST,
            "/api/v1/admin/users/{id}/unlock",
            post(admin::unlock_user),
        ),
        (
            Method::POST,
            "/api/v1/admin/users/{id}/disable",
            post(admin::disable_user),
        ),
        (Method::GET, "/api/v1/admin/audit", get(admin::audit)),
        (Method::GET, "/api/v1/openapi.json", get(ops::openapi)),
        (Method::GET, "/health", get(ops::health)),
        (Method::GET, "/ready", get(ops::ready)),
        (Method::GET, "/metrics", get(ops::metrics)),
    ]
}

/// The router with every route and layer, before trailing-slash normalisation.
pub fn router(state: AppState) -> Router {
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (_, path, handler) in routes() {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(middleware::request_context))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Paths answer with and without a trailing slash, so normalise before routing.
    let app = NormalizePathLayer::trim_trailing_slash().layer(router(state));
    let service = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        SocketAddr,
    >(app);
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

//! The backend: the axum router of API.md over a `Store`. Handlers are thin: parse and validate,
//! call one store method, map the result. Middleware gives every request an id, a log line
//! without patient data, metrics, and an envelope on every answer.

mod admin;
mod audit_head;
mod auth;
pub mod client_ip;
mod consultations;
pub mod error;
pub mod events;
mod exports;
mod extract;
pub mod fhir;
pub mod generation;
pub mod listener;
mod mfa;
mod middleware;
pub mod openapi;
mod ops;
mod params;
mod patients;
mod reports;
pub mod settings;
pub mod tls;
pub mod tokens;
pub mod totp;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodRouter, get};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

pub use middleware::RateLimits;

use crate::store::{LockoutPolicy, Store};

/// The largest request body accepted, as API.md says.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The MRN identifier's system when the config names none.
pub const DEFAULT_FHIR_MRN_SYSTEM: &str = "urn:synapse:mrn";

/// What the server needs to run, resolved from defaults, the config file, env and flags.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub jwt_secret: Vec<u8>,
    /// The signing key being replaced, accepted until the tokens it signed expire.
    pub jwt_previous_secret: Option<Vec<u8>>,
    pub access_token_ttl_s: i64,
    pub refresh_token_ttl_s: i64,
    pub lockout: LockoutPolicy,
    /// The idle timeout and absolute lifetime of a session, kept by the server.
    pub sessions: crate::store::SessionPolicy,
    /// How many password hashes may run at once (each takes ~19 MiB and a core for a moment).
    pub hashing_concurrency: usize,
    /// Login attempts allowed per client address per minute before 429.
    pub login_attempts_per_minute: u32,
    /// Requests per minute of one authenticated user, and of one address for every request
    /// without a valid token, before 429.
    pub rate_limits: middleware::RateLimits,
    /// The reverse proxies whose `X-Forwarded-For` / `Forwarded` name the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The live event streams: heartbeat, replay, streams per user.
    pub events: events::EventSettings,
    /// Timeouts and caps of the connections (the listener).
    pub connections: listener::ConnectionSettings,
    /// The `system` of the MRN identifier in FHIR answers: a URI naming this clinic's
    /// numbering, so a receiving system can tell our MRNs from another clinic's.
    pub fhir_mrn_system: String,
    /// The roles whose accounts must have a second factor (`require_mfa`): until enrolled,
    /// such an account can only enrol, read `me` and its sessions, refresh and log out.
    pub require_mfa: Vec<crate::model::auth::Role>,
}

impl ServerConfig {
    /// Settings with the documented defaults and the given signing secret.
    pub fn with_secret(jwt_secret: Vec<u8>) -> ServerConfig {
        ServerConfig {
            jwt_secret,
            jwt_previous_secret: None,
            access_token_ttl_s: 15 * 60,
            refresh_token_ttl_s: 7 * 24 * 3600,
            lockout: LockoutPolicy {
                threshold: 5,
                account_threshold: 20,
                duration: chrono::Duration::minutes(15),
            },
            sessions: crate::store::SessionPolicy::default(),
            hashing_concurrency: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            login_attempts_per_minute: 60,
            rate_limits: middleware::RateLimits::default(),
            trusted_proxies: Vec::new(),
            events: events::EventSettings::default(),
            connections: listener::ConnectionSettings::default(),
            fhir_mrn_system: DEFAULT_FHIR_MRN_SYSTEM.to_string(),
            require_mfa: Vec::new(),
        }
    }
}

/// Everything a handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ServerConfig>,
    /// Behind an `Arc`: axum clones the state for every handler and middleware that takes it,
    /// and the keys (with their validation rules) cost allocations to clone and zeroising to
    /// drop: about 30,000 instructions a request, half a bare `/health` round trip.
    pub tokens: Arc<tokens::TokenKeys>,
    pub passwords: tokens::PasswordGate,
    pub generation: generation::GenerationQueue,
    pub login_limiter: Arc<middleware::LoginLimiter>,
    pub rate_limiter: Arc<middleware::ApiRateLimiter>,
    pub events: events::EventHub,
}

impl AppState {
    /// Builds the state and starts the report generation worker and the live events reader.
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> anyhow::Result<AppState> {
        // Install the metrics recorder now: counters recorded before it exists are lost, so
        // waiting for the first scrape would drop every request before it.
        ops::metrics_handle();
        let tokens = Arc::new(
            tokens::TokenKeys::new(
                &config.jwt_secret,
                config.access_token_ttl_s,
                config.refresh_token_ttl_s,
            )
            .with_previous(config.jwt_previous_secret.as_deref()),
        );
        let passwords = tokens::PasswordGate::new(config.hashing_concurrency)?;
        let generation = generation::GenerationQueue::start(store.clone());
        let events = events::EventHub::start(store.clone(), config.events.clone());
        let login_limiter = Arc::new(middleware::LoginLimiter::new(
            config.login_attempts_per_minute,
        ));
        let rate_limiter = Arc::new(middleware::ApiRateLimiter::new(config.rate_limits));
        Ok(AppState {
            rate_limiter,
            store,
            config: Arc::new(config),
            tokens,
            passwords,
            generation,
            login_limiter,
            events,
        })
    }
}

/// Every operation of the API, one row each: the handler and, from its `#[utoipa::path]`,
/// its method, path and OpenAPI operation. The router and the document are both built from
/// this table only, so a route cannot exist without its operation, and a test that walks
/// `routes()` sees every route there is.
pub fn table() -> Vec<UtoipaMethodRouter<AppState>> {
    vec![
        routes!(auth::login),
        routes!(auth::refresh),
        routes!(auth::logout),
        routes!(auth::me),
        routes!(auth::change_password),
        routes!(auth::list_sessions),
        routes!(auth::end_session),
        routes!(mfa::verify),
        routes!(mfa::enroll),
        routes!(mfa::confirm),
        routes!(patients::list),
        routes!(patients::search),
        routes!(patients::create),
        routes!(patients::get),
        routes!(patients::update),
        routes!(patients::doctors),
        routes!(exports::record),
        routes!(consultations::start),
        routes!(consultations::active),
        routes!(consultations::get),
        routes!(consultations::update_notes),
        routes!(consultations::stop),
        routes!(consultations::cancel),
        routes!(consultations::history),
        routes!(reports::list),
        routes!(reports::stats),
        routes!(reports::get),
        routes!(reports::edit),
        routes!(reports::sign),
        routes!(reports::add_addendum),
        routes!(exports::report),
        routes!(events::stream),
        routes!(admin::list_users),
        routes!(admin::create_user),
        routes!(admin::unlock_user),
        routes!(admin::disable_user),
        routes!(admin::enable_user),
        routes!(admin::reset_password),
        routes!(admin::revoke_sessions),
        routes!(admin::reset_mfa),
        routes!(admin::audit),
        routes!(ops::openapi),
        routes!(ops::health),
        routes!(ops::ready),
        routes!(ops::metrics),
    ]
}

/// Every route of the API as method, path template and handler, read from `table()`.
pub fn routes() -> Vec<(Method, String, MethodRouter<AppState>)> {
    table()
        .into_iter()
        .flat_map(|(_, paths, handler)| {
            paths
                .paths
                .into_iter()
                .flat_map(|(path, item)| {
                    [
                        (Method::GET, item.get.is_some()),
                        (Method::PUT, item.put.is_some()),
                        (Method::POST, item.post.is_some()),
                        (Method::DELETE, item.delete.is_some()),
                        (Method::PATCH, item.patch.is_some()),
                    ]
                    .into_iter()
                    .filter(|(_, present)| *present)
                    .map(move |(method, _)| (method, path.clone()))
                    .collect::<Vec<_>>()
                })
                .map(move |(method, path)| (method, path, handler.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The router with every route and layer, before trailing-slash normalisation. Besides the
/// operations of `table()` it serves the browsable reference at `/docs` (static files, not
/// API operations) and the FHIR API (`server::fhir`, described by its own CapabilityStatement).
pub fn router(state: AppState) -> Router {
    let body_timeout = state.config.connections.body_timeout;
    let (api, _) = table()
        .into_iter()
        .fold(OpenApiRouter::new(), |router, route| router.routes(route))
        .split_for_parts();
    api.nest(fhir::BASE_PATH, fhir::router())
        .route(ops::DOCS_PATH, get(ops::docs))
        .route(
            &format!("{}/{{*file}}", ops::DOCS_PATH),
            get(ops::docs_asset),
        )
        .fallback(ops::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            listener::body_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::request_context,
        ))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .with_state(state)
}

/// Serves the API over plain HTTP on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_with(listener, state, None, shutdown).await
}

/// Serves the API on `listener` until `shutdown` resolves, over TLS when `tls` is given, with
/// the connection limits of the state's config.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    tls: Option<Arc<tls::Certificates>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Open event streams never finish on their own: end them when shutting down, so the
    // graceful shutdown does not wait for them.
    let events = state.events.clone();
    let shutdown = async move {
        shutdown.await;
        events.close();
    };
    let connections = state.config.connections.clone();
    let store = state.store.clone();
    let hourly = tokio::spawn(audit_head::log_hourly(store.clone()));
    let served = listener::run(listener, router(state), connections, tls, shutdown).await;
    hourly.abort();
    audit_head::log(store.as_ref(), "shutdown").await;
    served
}

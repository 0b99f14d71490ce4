//! Cross-cutting request handling: the request id (always the server's own; a well-formed id
//! the client sent is kept beside it), the client's address (`client_ip`), one log line and
//! metrics per request with the route pattern (never the raw path or query, which can hold
//! patient names), an envelope for errors produced outside handlers, panics turned into 500s,
//! the headers every answer carries (no caching, no sniffing), and the rate limits (governor):
//! per user for authenticated calls, per address for the rest, and per address for logins.

use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, REQUEST_ID};
use super::tokens::TokenProblem;
use crate::model::auth::AccessClaims;
use crate::model::envelope::code;
use crate::telemetry::{self, Limited};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id and the client's address, for handlers and the audit trail.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// The server's own id of the request.
    pub request_id: String,
    /// The id the client sent in `X-Request-ID`, when well-formed: the client's, not trusted.
    pub client_request_id: Option<String>,
    pub ip: Option<IpAddr>,
    /// The method and route pattern (`GET /api/v1/patients/{id}`): the action of a refusal's
    /// audit row.
    pub operation: String,
    /// The record the path names (`patient` and its id), for a refusal's audit row.
    pub path_record: Option<(&'static str, Uuid)>,
}

/// The record a path names: the first UUID segment, and the kind of the collection before it.
fn path_record(path: &str) -> Option<(&'static str, Uuid)> {
    let segments: Vec<&str> = path.split('/').collect();
    segments.windows(2).find_map(|pair| {
        let id = Uuid::parse_str(pair[1]).ok()?;
        let kind = match pair[0] {
            "patients" => "patient",
            "consultations" => "consultation",
            "reports" => "report",
            "users" => "user",
            _ => "record",
        };
        Some((kind, id))
    })
}

/// A client-supplied id is used when it is 1–64 characters of `[A-Za-z0-9._-]`.
fn acceptable_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub async fn request_context(
    State(app): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // The server's own id: a client's id names nothing the server can vouch for (two requests
    // could send the same), so it is only kept beside it.
    let request_id = Uuid::now_v7().to_string();
    let client_request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string);
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = super::client_ip::client_ip(peer, req.headers(), &app.config.trusted_proxies);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().clone();
    let fhir = super::fhir::is_fhir_path(req.uri().path());
    let operation = format!("{} {route}", method_label(&method));
    let record = path_record(req.uri().path());
    req.extensions_mut().insert(RequestMeta {
        request_id: request_id.clone(),
        client_request_id: client_request_id.clone(),
        ip,
        operation,
        path_record: record,
    });
    // The token is checked once here: the limiter counts by its user, and `authenticate`
    // takes the same answer from the extensions instead of verifying the signature again.
    let bearer = CheckedBearer::of(&app, req.headers());
    let limited = app.rate_limiter.check(bearer.as_ref(), ip);
    if let Some(bearer) = bearer {
        req.extensions_mut().insert(bearer);
    }

    let mut response = REQUEST_ID
        .scope(request_id.clone(), async move {
            let response = match limited {
                Ok(()) => next.run(req).await,
                Err(refusal) => refusal.into_response(),
            };
            let response = envelope_bare_errors(response);
            if fhir {
                super::fhir::outcome_of(response).await
            } else {
                response
            }
        })
        .await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    protect(response.headers_mut());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let labels = [
        ("method", method_label(&method).to_string()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    tracing::info!(
        request_id = %request_id,
        client_request_id = client_request_id.as_deref().unwrap_or("-"),
        client = %ip.map(|ip| ip.to_string()).unwrap_or_else(|| "-".to_string()),
        method = %method,
        route = %route,
        status,
        micros = elapsed.as_micros() as u64,
        "request"
    );
    response
}

/// Headers every answer carries: patient data is never kept by a browser, a proxy or a disk
/// cache (`no-store`, unless the answer chose its own caching, as the static `/docs` files
/// do), and never sniffed into another content type.
fn protect(headers: &mut HeaderMap) {
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// The method as a metrics label: the methods of HTTP, and one `other` for any invented one,
/// so a client cannot grow the metrics without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Gives the error envelope to any error response that is not JSON yet (axum's own 405, a
/// rejected body, a layer's refusal), so clients only ever see one error shape.
fn envelope_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    ApiError::from_status(status).into_response()
}

/// A panic becomes a plain 500 envelope; the panic message is not sent to the client.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!("a request handler panicked");
    let mut response = ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Requests per key (an address, a user), on governor's GCRA: `per_minute` may come at once,
/// then one more each `60 / per_minute` seconds. Per process: each instance behind a load
/// balancer counts its own share. It holds no lock of its own, so no failed request elsewhere
/// can switch it off.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
}

/// Login attempts per client address: good enough to blunt guessing, while the lockout (in
/// the database) is the real defence.
pub type LoginLimiter = KeyedLimiter<IpAddr>;

/// Past this many keys, those whose state is back to fresh are forgotten, so a spray of
/// addresses cannot grow the map without bound.
const REMEMBERED_ADDRESSES: usize = 10_000;

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limit of `per_minute` requests per key; 0 is taken as 1 (the settings refuse 0).
    pub fn new(per_minute: u32) -> KeyedLimiter<K> {
        let burst = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        KeyedLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(burst)),
        }
    }

    /// Counts a request of `key`; `Err(seconds)` says how long to wait when over the limit,
    /// rounded up so that a client that waits that long is let in.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        if self.limiter.len() > REMEMBERED_ADDRESSES {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            seconds.max(1)
        })
    }

    /// Counts an attempt from `ip`; requests without an address (not over TCP) are not limited.
    pub fn attempt(&self, ip: Option<IpAddr>) -> Result<(), u64>
    where
        K: From<IpAddr>,
    {
        match ip {
            Some(ip) => self.check(&K::from(ip)),
            None => Ok(()),
        }
    }
}

/// The limits of the whole API, per minute.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Calls of one authenticated user (every instance counts its own).
    pub per_user: u32,
    /// Calls without a valid token, per client address.
    pub per_address: u32,
}

impl Default for RateLimits {
    /// Generous enough for search-as-you-type (a search per keystroke, and the workstation's
    /// reads around it), far below what it takes to copy the patient list out.
    fn default() -> RateLimits {
        RateLimits {
            per_user: 1200,
            per_address: 300,
        }
    }
}

/// A wait as a person reads it: "1 second", "30 seconds".
pub fn seconds(n: u64) -> String {
    if n == 1 {
        "1 second".to_string()
    } else {
        format!("{n} seconds")
    }
}

/// A request's bearer token, with the verdict on its signature and expiry. The request context
/// checks it once and leaves it in the request's extensions for `authenticate`.
#[derive(Debug, Clone)]
pub struct CheckedBearer(pub Result<AccessClaims, TokenProblem>);

impl CheckedBearer {
    /// `None` when the request carries no `Authorization: Bearer` header.
    fn of(app: &AppState, headers: &HeaderMap) -> Option<CheckedBearer> {
        bearer_token(headers).map(|token| CheckedBearer(app.tokens.check_access(token)))
    }
}

/// The token of an `Authorization: Bearer <token>` header, trimmed.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// The limit of every call: by the user of a valid bearer token, else by address.
pub struct ApiRateLimiter {
    users: KeyedLimiter<Uuid>,
    addresses: KeyedLimiter<IpAddr>,
}

impl ApiRateLimiter {
    pub fn new(limits: RateLimits) -> ApiRateLimiter {
        ApiRateLimiter {
            users: KeyedLimiter::new(limits.per_user),
            addresses: KeyedLimiter::new(limits.per_address),
        }
    }

    /// Counts a request; the refusal is the 429 to answer. Only the token's signature and
    /// expiry count here (no database): a revoked session still counts against its user, and
    /// the handler then refuses it.
    fn check(&self, bearer: Option<&CheckedBearer>, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let user = bearer
            .and_then(|b| b.0.as_ref().ok())
            .map(|claims| claims.sub);
        let (result, whose, kept_for) = match user {
            Some(user) => (self.users.check(&user), "this account", Limited::User),
            None => (self.addresses.attempt(ip), "this address", Limited::Address),
        };
        result.map_err(|wait| {
            telemetry::rate_limited(kept_for);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::RATE_LIMITED,
                format!(
                    "Too many requests from {whose}. Wait {} and try again.",
                    seconds(wait)
                ),
            )
            .with_details(json!({ "retry_after_s": wait }));
            error.retry_after = Some(wait);
            error
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_in_words() {
        assert_eq!(seconds(1), "1 second");
        assert_eq!(seconds(30), "30 seconds");
    }

    #[test]
    fn request_ids_from_clients_are_checked() {
        assert!(acceptable_request_id("abc-123_x.y"));
        assert!(!acceptable_request_id(""));
        assert!(!acceptable_request_id("has space"));
        assert!(!acceptable_request_id(&"x".repeat(65)));
    }

    #[test]
    fn limiter_refuses_past_the_limit_per_address() {
        let limiter = LoginLimiter::new(2);
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        assert!(limiter.attempt(ip).is_ok());
        assert!(limiter.attempt(ip).is_ok());
        // Two a minute: the next is allowed 30 s after the first, rounded up to whole seconds.
        let wait = limiter.attempt(ip).unwrap_err();
        assert!((29..=30).contains(&wait), "{wait}");
        assert!(limiter.attempt(Some(IpAddr::from([127, 0, 0, 2]))).is_ok());
        // Requests without an address (not over TCP) are not limited.
        for _ in 0..5 {
            assert!(limiter.attempt(None).is_ok());
        }
    }

    #[test]
    fn a_refused_address_is_let_in_once_it_has_waited() {
        // 60 a minute: one more each second once the burst is spent.
        let limiter = LoginLimiter::new(60);
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..60 {
            assert!(limiter.attempt(ip).is_ok());
        }
        let wait = limiter.attempt(ip).unwrap_err();
        assert_eq!(wait, 1);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(limiter.attempt(ip).is_ok());
    }

    #[test]
    fn a_limit_of_zero_still_lets_one_attempt_a_minute_through() {
        let limiter = LoginLimiter::new(0);
        let ip = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(limiter.attempt(ip).is_ok());
        assert!(limiter.attempt(ip).unwrap_err() >= 59);
    }

    #[test]
    fn many_addresses_are_forgotten_once_fresh_again() {
        let limiter = LoginLimiter::new(1_000_000);
        for i in 0..=(REMEMBERED_ADDRESSES as u32 + 10) {
            assert!(limiter.attempt(Some(IpAddr::from(i.to_be_bytes()))).is_ok());
        }
        // With a million a minute every address is fresh again within a millisecond or so.
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(limiter.attempt(Some(IpAddr::from([10, 9, 9, 9]))).is_ok());
        assert!(
            limiter.limiter.len() < REMEMBERED_ADDRESSES,
            "{} addresses kept",
            limiter.limiter.len()
        );
    }
}

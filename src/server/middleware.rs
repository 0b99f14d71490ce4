//! Cross-cutting request handling: the request id (accepted from the client when well-formed),
//! one log line and metrics per request with the route pattern (never the raw path or query,
//! which can hold patient names), an envelope for errors produced outside handlers, panics turned
//! into 500s, the headers every answer carries (no caching, no sniffing), and the per-address
//! login rate limit (governor).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::{ApiError, REQUEST_ID};

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request's id and the client's address, for handlers and the audit trail.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: Option<IpAddr>,
}

/// A client-supplied id is used when it is 1–64 characters of `[A-Za-z0-9._-]`.
fn acceptable_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub async fn request_context(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().clone();
    req.extensions_mut().insert(RequestMeta {
        request_id: request_id.clone(),
        ip,
    });

    let mut response = REQUEST_ID
        .scope(request_id.clone(), async move {
            let response = next.run(req).await;
            envelope_bare_errors(response)
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

/// Login attempts per client address, on governor's GCRA: `per_minute` may come at once, then
/// one more each `60 / per_minute` seconds. Per process: good enough to blunt guessing, while
/// the lockout (in the database) is the real defence. It holds no lock of its own, so no
/// failed request elsewhere can switch it off.
pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

/// Past this many addresses, those whose state is back to fresh are forgotten, so a spray of
/// addresses cannot grow the map without bound.
const REMEMBERED_ADDRESSES: usize = 10_000;

impl LoginLimiter {
    /// A limit of `per_minute` attempts per address; 0 is taken as 1 (the settings refuse 0).
    pub fn new(per_minute: u32) -> LoginLimiter {
        let burst = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        LoginLimiter {
            limiter: RateLimiter::keyed(Quota::per_minute(burst)),
        }
    }

    /// Counts an attempt; `Err(seconds)` says how long to wait when over the limit, rounded
    /// up so that a client that waits that long is let in.
    pub fn attempt(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let Some(ip) = ip else { return Ok(()) };
        if self.limiter.len() > REMEMBERED_ADDRESSES {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.limiter.clock().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            seconds.max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

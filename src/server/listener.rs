//! The server's own accept loop, so that one client cannot take the server down: a cap on open
//! connections overall and per client address (past it a connection gets a short 503 and is
//! closed at once, and the loop goes on accepting), timeouts for the request head, the body and
//! an idle keep-alive connection, an early 413 from `Content-Length`, and the error envelope
//! (with a request id) on the answers the HTTP layer writes by itself (400, 414, 431).
//! TLS, when configured, is a step of each connection here (see `tls`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::BODY_LIMIT;
use super::error::ApiError;
use super::tls::Certificates;
use crate::model::envelope::code;

/// Files a process keeps open besides its connections (the database, the audit log, the
/// signing key, the resolver): the connection cap is kept this far below the open-file limit,
/// so the server never runs out of descriptors for those.
const RESERVED_FILES: u64 = 256;

/// `Strict-Transport-Security` on every answer over TLS: browsers that have seen it once come
/// back over HTTPS only, for a year.
pub const HSTS: &str = "max-age=31536000";

/// In a request's extensions when it came over TLS: answers that name their own URL (the FHIR
/// API's links) say `https`.
#[derive(Debug, Clone, Copy)]
pub struct ServedOverTls;

/// The connection limits of `[server]` (config.example.toml lists them with their defaults).
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// Time for a client to send a whole request head (and, over TLS, the handshake).
    pub header_read_timeout: Duration,
    /// Time for a client to send a whole request body, from the end of its head.
    pub body_timeout: Duration,
    /// How long a kept-alive connection may sit with no request and no traffic.
    pub idle_timeout: Duration,
    /// How long a server told to stop (SIGTERM) lets the requests it has started finish
    /// before it closes their connections and exits.
    pub shutdown_grace: Duration,
    /// Open connections at once, overall (kept below the open-file limit in any case).
    pub max_connections: usize,
    /// Open connections at once from one client address.
    pub max_connections_per_address: usize,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        ConnectionSettings {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_address: 256,
        }
    }
}

/// Raises the soft limit on open files to the hard limit (the rlimit crate does it safely),
/// and returns the soft limit now in force. At start-up: many systems start a service with a
/// soft limit of 1024, far below what the hard limit allows.
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit; keeping the current one");
            open_file_limit()
        }
    }
}

fn open_file_limit() -> Option<u64> {
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

/// The overall cap actually used: the configured one, kept below the open-file limit.
fn effective_cap(configured: usize, file_limit: Option<u64>) -> usize {
    match file_limit {
        Some(limit) => {
            let room =
                usize::try_from(limit.saturating_sub(RESERVED_FILES).max(16)).unwrap_or(usize::MAX);
            configured.min(room)
        }
        None => configured,
    }
}

/// Open connections, overall and per client address.
struct Admission {
    max_total: usize,
    max_per_address: usize,
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it frees its place.
struct Admitted {
    admission: Arc<Admission>,
    ip: IpAddr,
}

impl Admission {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let mut per_address = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
        let here = per_address.get(&ip).copied().unwrap_or(0);
        if here >= self.max_per_address || self.total.load(Ordering::Relaxed) >= self.max_total {
            return None;
        }
        per_address.insert(ip, here + 1);
        self.total.fetch_add(1, Ordering::Relaxed);
        Some(Admitted {
            admission: self.clone(),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut per_address = self
            .admission
            .per_address
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = per_address.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_address.remove(&self.ip);
            }
        }
        self.admission.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A log line at most every ten seconds for a repeated event (refusals, accept errors), with
/// how many there were, so a flood does not become a flood of log lines too.
struct Throttled {
    since: Mutex<Option<Instant>>,
    count: AtomicU64,
}

impl Throttled {
    const fn new() -> Throttled {
        Throttled {
            since: Mutex::new(None),
            count: AtomicU64::new(0),
        }
    }

    /// Counts one event; `Some(n)` when it is time to log the `n` since the last line.
    fn hit(&self) -> Option<u64> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut since = self.since.lock().unwrap_or_else(|e| e.into_inner());
        let due = since.is_none_or(|at| at.elapsed() >= Duration::from_secs(10));
        if due {
            *since = Some(Instant::now());
            Some(self.count.swap(0, Ordering::Relaxed))
        } else {
            None
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, over TLS when `tls` is given.
pub async fn run(
    listener: TcpListener,
    app: axum::Router,
    settings: ConnectionSettings,
    tls: Option<Arc<Certificates>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let max_total = effective_cap(settings.max_connections, open_file_limit());
    if max_total < settings.max_connections {
        tracing::warn!(
            configured = settings.max_connections,
            used = max_total,
            "max_connections is above what the open-file limit allows; raise the limit (LimitNOFILE= in a systemd unit, ulimit -n) or lower max_connections"
        );
    }
    let admission = Arc::new(Admission {
        max_total,
        max_per_address: settings.max_connections_per_address,
        total: AtomicUsize::new(0),
        per_address: Mutex::new(HashMap::new()),
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let refusals = Throttled::new();
    let accept_errors = Throttled::new();
    let settings = Arc::new(settings);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                if let Some(count) = accept_errors.hit() {
                    tracing::warn!(%error, count, "cannot accept connections");
                }
                // Out of descriptors (or memory) until a connection closes: wait a moment
                // rather than spin on the error.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(admitted) = admission.admit(peer.ip()) else {
            if let Some(count) = refusals.hit() {
                tracing::warn!(
                    count,
                    max_connections = admission.max_total,
                    max_connections_per_address = admission.max_per_address,
                    "connections refused: over the connection limit"
                );
            }
            refuse(stream, tls.is_some());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let settings = settings.clone();
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            let activity = Arc::new(Activity::new());
            match tls {
                None => {
                    let io = Tracked::new(stream, activity.clone(), false);
                    connection(builder, watcher, io, app, peer, activity, &settings).await;
                }
                Some(tls) => {
                    let acceptor = tls.acceptor();
                    let handshake =
                        tokio::time::timeout(settings.header_read_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(stream)) => {
                            let io = Tracked::new(stream, activity.clone(), true);
                            connection(builder, watcher, io, app, peer, activity, &settings).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let grace = settings.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            shutdown_grace_s = grace.as_secs(),
            "requests still open at the end of the shutdown grace period; closing their connections"
        );
    }
    Ok(())
}

/// Serves one connection until it ends, the server shuts down, or it has been idle too long.
async fn connection<S>(
    builder: auto::Builder<TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    io: Tracked<S>,
    app: axum::Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
    settings: &ConnectionSettings,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let tls = io.tls;
    // Paths answer with and without a trailing slash, so normalise before routing.
    let app = tower::Layer::layer(
        &tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash(),
        app,
    );
    let requests = activity.clone();
    let service = tower::service_fn(move |request: Request<Incoming>| {
        let app = app.clone();
        let in_flight = InFlight::new(requests.clone());
        async move {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            if tls {
                request.extensions_mut().insert(ServedOverTls);
            }
            let response = match app.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let mut response = response.map(|body| {
                Body::new(CountedBody {
                    body,
                    _in_flight: in_flight,
                })
            });
            if tls {
                response.headers_mut().insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(HSTS),
                );
            }
            Ok::<_, Infallible>(response)
        }
    });
    let served = watcher.watch(
        builder
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned(),
    );
    tokio::select! {
        result = served => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        () = idle(activity, settings.idle_timeout) => {
            tracing::debug!("idle connection closed");
        }
    }
}

/// Resolves once the connection has had no request in progress and no traffic for `limit`.
async fn idle(activity: Arc<Activity>, limit: Duration) {
    loop {
        let quiet = activity.quiet_for();
        if activity.in_flight.load(Ordering::Relaxed) == 0 && quiet >= limit {
            return;
        }
        let wait = limit.saturating_sub(quiet).max(Duration::from_millis(100));
        tokio::time::sleep(wait).await;
    }
}

/// Refuses a connection over the cap: a short 503 in the envelope if the socket takes it at
/// once (it always can, fresh), then closed. Never waits, so a flood costs no descriptors.
fn refuse(stream: TcpStream, tls: bool) {
    if !tls {
        let error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            code::UNAVAILABLE,
            "Too many connections are open to the server from here. Close some, or try again in a moment.",
        );
        let _ = stream.try_write(&raw_response(&error, &[("retry-after", "5")], false));
    }
    drop(stream);
}

/// A whole HTTP/1.1 answer as bytes, for the places hyper is not writing it: the error
/// envelope with a new request id, `Connection: close`.
fn raw_response(error: &ApiError, extra: &[(&str, &str)], tls: bool) -> Vec<u8> {
    let request_id = uuid::Uuid::now_v7().to_string();
    let body = error.to_body(&request_id);
    let reason = error.status.canonical_reason().unwrap_or("Error");
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-request-id: {request_id}\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         connection: close\r\n",
        error.status.as_u16(),
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if tls {
        head.push_str(&format!("strict-transport-security: {HSTS}\r\n"));
    }
    head.push_str("\r\n");
    tracing::info!(
        request_id = %request_id,
        route = "unparsed",
        status = error.status.as_u16(),
        "request"
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// When the connection last moved a byte, and how many of its requests are being answered.
struct Activity {
    started: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            started: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn quiet_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }
}

/// A request being answered, until its response body is done (an event stream is one).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// A response body that keeps its request counted as in flight until it is finished.
struct CountedBody {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> SizeHint {
        hyper::body::Body::size_hint(&self.body)
    }
}

/// The connection's stream, noting traffic for the idle timeout and putting the answers hyper
/// writes by itself (400, 414, 431 for a request it cannot parse) in the error envelope.
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    tls: bool,
    /// An envelope answer taking the place of hyper's bare one: bytes and how many are sent.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<S> Tracked<S> {
    fn new(inner: S, activity: Arc<Activity>, tls: bool) -> Tracked<S> {
        activity.touch();
        Tracked {
            inner,
            activity,
            tls,
            replacement: None,
        }
    }
}

impl<S: AsyncWrite + Unpin> Tracked<S> {
    /// Writes what is left of the replacement answer; ready once it is all out.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, sent)) = &mut self.replacement {
            if *sent >= bytes.len() {
                self.replacement = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*sent..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    *sent += n;
                    self.activity.touch();
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Poll::Ready(Err(error)) = this.poll_replacement(cx) {
            return Poll::Ready(Err(error));
        }
        if this.replacement.is_some() {
            return Poll::Pending;
        }
        if let Some(status) = automatic_error(buf) {
            let error = http_layer_error(status);
            this.replacement = Some((raw_response(&error, &[], this.tls), 0));
            // hyper's own bytes count as written: the envelope goes out in their place.
            return match this.poll_replacement(cx) {
                Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                _ => Poll::Ready(Ok(buf.len())),
            };
        }
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled
            && n > 0
        {
            this.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_replacement(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_replacement(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_shutdown(cx),
            other => other,
        }
    }

    // Not vectored: hyper then writes each answer's head as one buffer, which is what
    // `automatic_error` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The status of an answer hyper wrote by itself for a request it could not parse: a bare
/// HTTP/1 head with status 400, 414 or 431 and without the `x-request-id` every answer of the
/// router carries.
fn automatic_error(buf: &[u8]) -> Option<StatusCode> {
    if !(buf.starts_with(b"HTTP/1.1 ") || buf.starts_with(b"HTTP/1.0 ")) || buf.len() < 12 {
        return None;
    }
    let status = match &buf[9..12] {
        b"400" => StatusCode::BAD_REQUEST,
        b"414" => StatusCode::URI_TOO_LONG,
        b"431" => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    if head.contains("\r\nx-request-id:") {
        return None;
    }
    Some(status)
}

/// The envelope for what the HTTP layer refuses before a request reaches the router.
pub fn http_layer_error(status: StatusCode) -> ApiError {
    let message = match status {
        StatusCode::URI_TOO_LONG => {
            "The address (path and query) is too long. Send long searches in fewer characters."
        }
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            "The request's headers are too large or too many. Send fewer or shorter headers (cookies included)."
        }
        _ => {
            "The request is not valid HTTP. Check the client sending it against the reference at /docs."
        }
    };
    ApiError::new(status, code::VALIDATION_ERROR, message)
}

/// Request-body hygiene, inside the request context (so its answers carry the request id): a
/// declared `Content-Length` over the limit gets 413 before any of the body is read, and a body
/// must arrive whole within the body timeout (408). The body is read here, within the limit,
/// and handed on whole. Both refusals close the connection, since the rest of the body may
/// still be on its way.
pub async fn body_guard(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if declared_length(request.headers()).is_some_and(|length| length > BODY_LIMIT as u64) {
        return closing(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    if hyper::body::Body::size_hint(request.body()).exact() == Some(0) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let read = async {
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| BodyFailure::Broken)?;
            if bytes.len() + chunk.len() > BODY_LIMIT {
                return Err(BodyFailure::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    match tokio::time::timeout(limit, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(BodyFailure::TooLarge)) => {
            closing(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE))
        }
        Ok(Err(BodyFailure::Broken)) => closing(http_layer_error(StatusCode::BAD_REQUEST)),
        Err(_) => closing(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            code::REQUEST_TIMEOUT,
            format!(
                "The request body did not arrive within {} s. Check the network and send the request again.",
                limit.as_secs_f64()
            ),
        )),
    }
}

enum BodyFailure {
    TooLarge,
    Broken,
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn closing(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_error_heads_are_taken_for_hyper_s_own() {
        let bare =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(
            automatic_error(bare),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\nx-request-id: abc\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(automatic_error(ours), None);
        assert_eq!(
            automatic_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(automatic_error(b"{\"status\":\"error\"}"), None);
    }

    #[test]
    fn the_cap_stays_below_the_open_file_limit() {
        assert_eq!(effective_cap(4096, Some(1_000_000)), 4096);
        assert_eq!(effective_cap(4096, Some(1024)), 768);
        assert_eq!(effective_cap(4096, None), 4096);
    }

    #[test]
    fn admission_counts_per_address_and_frees_places() {
        let admission = Arc::new(Admission {
            max_total: 3,
            max_per_address: 2,
            total: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = admission.admit(a).unwrap();
        let _second = admission.admit(a).unwrap();
        assert!(admission.admit(a).is_none(), "third from one address");
        let _third = admission.admit(b).unwrap();
        assert!(admission.admit(b).is_none(), "over the total");
        drop(first);
        assert!(admission.admit(a).is_some());
    }
}

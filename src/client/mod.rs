//! The typed API client the workstation and the scripting CLI use: one async method per
//! endpoint of API.md (in `endpoints`; the live event stream in `events`), `ApiError` for every
//! failure, an `X-Request-ID` on every call, proactive and on-401 token refresh shared by
//! concurrent calls (single flight), and retries for reads only.

mod endpoints;
pub mod error;
pub mod events;
pub mod exports;
pub mod qr;
pub mod settings;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

pub use error::{ApiError, ErrorKind};
pub use events::EventStream;

use crate::model::auth::{AccessClaims, RefreshRequest, Tokens, User};
use crate::model::envelope::{ErrorEnvelope, SuccessEnvelope};

/// Refresh this long before the access token expires, so a call never races its expiry.
const REFRESH_AHEAD_S: i64 = 60;
/// Reads are retried this many times on connection errors and 503.
const READ_RETRIES: u32 = 2;
/// A `Retry-After` longer than this is not waited out; the caller sees `RateLimited`.
const MAX_RETRY_AFTER_S: u64 = 5;

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http(s)://host:port`, without `/api/v1`.
    pub server_url: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// An extra CA certificate (PEM) to trust, for a hospital's own PKI.
    pub extra_ca_pem: Option<PathBuf>,
}

impl ClientConfig {
    pub fn new(server_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            server_url: server_url.into().trim_end_matches('/').to_string(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(15),
            extra_ca_pem: None,
        }
    }
}

/// What the client tells its owner about the session, so a rotated refresh token can be saved
/// (each is single use) and an ended session can ask for the password.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    None,
    /// Logged in or refreshed: the refresh token to keep from now on.
    Renewed {
        email: String,
        refresh_token: String,
    },
    /// Logged out or refused: forget the stored refresh token.
    Ended,
}

#[derive(Debug, Clone)]
struct Session {
    access_token: String,
    /// The access token's `exp`, read without verifying (the client has no key).
    access_expires_at: i64,
    refresh_token: String,
    user: User,
    /// The server said the account must enrol a second factor before anything else.
    enrolment_due: bool,
}

struct SessionState {
    session: Mutex<Option<Session>>,
    /// Held while a refresh is in flight, so concurrent calls share one refresh.
    refresh_gate: tokio::sync::Mutex<()>,
    events: watch::Sender<SessionEvent>,
}

/// One client per server: a pooled reqwest client and the session on it. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: Arc<str>,
    state: Arc<SessionState>,
}

/// Makes ring the process's TLS provider (reqwest is built without one). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A request before it is sent: built from typed values only.
struct Call {
    method: Method,
    path: String,
    query: Option<String>,
    body: Option<serde_json::Value>,
    authenticated: bool,
}

impl ApiClient {
    pub fn new(config: &ClientConfig) -> Result<ApiClient, ApiError> {
        install_tls_provider();
        let setup = |message: String| ApiError::new(ErrorKind::Protocol, message, None);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Let a pooled connection go before the server's idle timeout (60 s by default)
            // closes it, so a request is rarely sent on a connection being closed.
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("synapse/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &config.extra_ca_pem {
            let pem = std::fs::read(path).map_err(|e| {
                setup(format!(
                    "cannot read the CA certificate {}: {e}",
                    path.display()
                ))
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|_| setup(format!("{} is not a PEM certificate", path.display())))?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|e| setup(format!("cannot set up HTTP: {e}")))?;
        let (events, _) = watch::channel(SessionEvent::None);
        Ok(ApiClient {
            http,
            base: config.server_url.trim_end_matches('/').into(),
            state: Arc::new(SessionState {
                session: Mutex::new(None),
                refresh_gate: tokio::sync::Mutex::new(()),
                events,
            }),
        })
    }

    /// A request that got no answer: timed out, refused for the server's certificate, or
    /// unreachable.
    pub(crate) fn send_error(&self, e: &reqwest::Error, request_id: &str) -> ApiError {
        if e.is_timeout() {
            ApiError::timeout(request_id)
        } else if let Some(problem) = error::certificate_problem(e) {
            ApiError::untrusted_certificate(request_id, &self.base, &problem)
        } else {
            ApiError::unreachable(request_id)
        }
    }

    pub fn server_url(&self) -> &str {
        &self.base
    }

    /// Session changes, for saving the refresh token or asking for the password again.
    pub fn session_events(&self) -> watch::Receiver<SessionEvent> {
        self.state.events.subscribe()
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<User> {
        self.session().map(|s| s.user)
    }

    /// When the current access token expires (seconds since the epoch).
    pub fn access_expires_at(&self) -> Option<i64> {
        self.session().map(|s| s.access_expires_at)
    }

    fn session(&self) -> Option<Session> {
        self.state.session.lock().ok().and_then(|s| s.clone())
    }

    fn set_session(&self, session: Option<Session>) {
        let event = match &session {
            Some(s) => SessionEvent::Renewed {
                email: s.user.email.clone(),
                refresh_token: s.refresh_token.clone(),
            },
            None => SessionEvent::Ended,
        };
        if let Ok(mut slot) = self.state.session.lock() {
            *slot = session;
        }
        self.state.events.send_replace(event);
    }

    /// Keeps the tokens of a login or refresh.
    fn adopt(&self, tokens: Tokens) -> Result<User, ApiError> {
        let claims =
            jsonwebtoken::dangerous::insecure_decode_claims::<AccessClaims>(&tokens.access_token)
                .map_err(|_| {
                ApiError::new(
                    ErrorKind::Protocol,
                    "The server sent an access token this client cannot read.",
                    None,
                )
            })?;
        let user = tokens.user.clone();
        self.set_session(Some(Session {
            access_token: tokens.access_token,
            access_expires_at: claims.exp,
            refresh_token: tokens.refresh_token,
            user: tokens.user,
            enrolment_due: tokens.mfa_enrollment_required,
        }));
        Ok(user)
    }

    /// Whether the server told this session's login (or last refresh) that the account must
    /// enrol a second factor before anything else (`Tokens::mfa_enrollment_required`).
    pub fn enrolment_due(&self) -> bool {
        self.state
            .session
            .lock()
            .ok()
            .and_then(|slot| slot.as_ref().map(|s| s.enrolment_due))
            .unwrap_or(false)
    }

    /// Forgets the session locally (after logout, or when it ended).
    pub fn forget_session(&self) {
        self.set_session(None);
    }

    /// Uses an access token obtained elsewhere (`SYNAPSE_TOKEN`, from `synapse auth token`):
    /// checks it with `/auth/me` and keeps it without a refresh token, so it is never renewed
    /// and nothing is reported for saving. Its lifetime is the server's access-token lifetime.
    pub async fn adopt_access_token(&self, access_token: &str) -> Result<User, ApiError> {
        let access_token = access_token.trim();
        let claims = jsonwebtoken::dangerous::insecure_decode_claims::<AccessClaims>(access_token)
            .map_err(|_| {
                ApiError::new(
                    ErrorKind::Unauthenticated,
                    "The access token given is not a Synapse access token.",
                    None,
                )
            })?;
        let call = Call {
            method: Method::GET,
            path: "/api/v1/auth/me".to_string(),
            query: None,
            body: None,
            authenticated: true,
        };
        let user = self.send::<User>(&call, Some(access_token)).await?;
        // Set directly, not through `set_session`: there is no refresh token to announce.
        if let Ok(mut slot) = self.state.session.lock() {
            *slot = Some(Session {
                access_token: access_token.to_string(),
                access_expires_at: claims.exp,
                refresh_token: String::new(),
                user: user.clone(),
                enrolment_due: false,
            });
        }
        Ok(user)
    }

    /// The current access token, refreshed first when it is about to expire (for
    /// `synapse auth token`).
    pub async fn access_token(&self) -> Result<String, ApiError> {
        self.fresh_access_token().await
    }

    /// An access token good for at least a minute, refreshing first when it is about to expire.
    async fn fresh_access_token(&self) -> Result<String, ApiError> {
        let session = self.session().ok_or_else(ApiError::not_logged_in)?;
        // An adopted token cannot be renewed: send it, and let the server judge its expiry.
        if session.refresh_token.is_empty() {
            return Ok(session.access_token);
        }
        if session.access_expires_at - chrono::Utc::now().timestamp() > REFRESH_AHEAD_S {
            return Ok(session.access_token);
        }
        self.refresh_after(&session.access_token).await
    }

    /// Refreshes the session unless another call already replaced `stale_access_token`; every
    /// racing caller waits on the same refresh and then uses its result.
    async fn refresh_after(&self, stale_access_token: &str) -> Result<String, ApiError> {
        let _gate = self.state.refresh_gate.lock().await;
        let session = self.session().ok_or_else(ApiError::session_ended)?;
        if session.access_token != stale_access_token {
            return Ok(session.access_token);
        }
        if session.refresh_token.is_empty() {
            return Err(ApiError::new(
                ErrorKind::SessionEnded,
                "The access token has expired and cannot be renewed: get a new one.",
                None,
            ));
        }
        let body = RefreshRequest {
            refresh_token: session.refresh_token.clone(),
        };
        let call = Call {
            method: Method::POST,
            path: "/api/v1/auth/refresh".to_string(),
            query: None,
            body: Some(to_json(&body)?),
            authenticated: false,
        };
        match self.send::<Tokens>(&call, None).await {
            Ok(tokens) => {
                self.adopt(tokens)?;
                self.session()
                    .map(|s| s.access_token)
                    .ok_or_else(ApiError::session_ended)
            }
            // The server may come back; the session may still be good.
            Err(e) if e.is_offline() => Err(e),
            Err(e) => {
                self.forget_session();
                Err(ended_because(e))
            }
        }
    }

    /// Logs in again with a saved refresh token (a remembered session).
    pub async fn resume(&self, refresh_token: &str) -> Result<User, ApiError> {
        let call = Call {
            method: Method::POST,
            path: "/api/v1/auth/refresh".to_string(),
            query: None,
            body: Some(to_json(&RefreshRequest {
                refresh_token: refresh_token.to_string(),
            })?),
            authenticated: false,
        };
        match self.send::<Tokens>(&call, None).await {
            Ok(tokens) => self.adopt(tokens),
            Err(e) if e.is_offline() => Err(e),
            Err(e) => {
                self.forget_session();
                Err(ended_because(e))
            }
        }
    }

    /// Runs a call: fresh token, one refresh-and-retry on `TOKEN_EXPIRED`, retries for reads.
    async fn run<T: DeserializeOwned>(&self, call: Call) -> Result<T, ApiError> {
        let mut refreshed = false;
        loop {
            let token = if call.authenticated {
                Some(self.fresh_access_token().await?)
            } else {
                None
            };
            match self.send::<T>(&call, token.as_deref()).await {
                Err(e) if e.kind == ErrorKind::TokenExpired && !refreshed => {
                    refreshed = true;
                    if let Some(token) = &token {
                        self.refresh_after(token).await?;
                    }
                }
                Err(e) if call.authenticated && matches!(e.kind, ErrorKind::SessionRevoked) => {
                    self.forget_session();
                    return Err(ApiError {
                        kind: ErrorKind::SessionEnded,
                        ..e
                    });
                }
                other => return other,
            }
        }
    }

    /// Sends one call (with read retries) and decodes the envelope.
    async fn send<T: DeserializeOwned>(
        &self,
        call: &Call,
        token: Option<&str>,
    ) -> Result<T, ApiError> {
        let retries = if call.method == Method::GET {
            READ_RETRIES
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            let request_id = uuid::Uuid::now_v7().to_string();
            let result = self.send_once::<T>(call, token, &request_id).await;
            let wait = match &result {
                Err(e) if attempt < retries => match e.kind {
                    ErrorKind::Unreachable | ErrorKind::Unavailable => {
                        Some(Duration::from_millis(200 * 3u64.pow(attempt)))
                    }
                    ErrorKind::RateLimited { retry_after_s }
                        if retry_after_s <= MAX_RETRY_AFTER_S =>
                    {
                        Some(Duration::from_secs(retry_after_s))
                    }
                    _ => None,
                },
                _ => None,
            };
            match wait {
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                None => return result,
            }
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        call: &Call,
        token: Option<&str>,
        request_id: &str,
    ) -> Result<T, ApiError> {
        let mut url = format!("{}{}", self.base, call.path);
        if let Some(query) = call.query.as_deref().filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(query);
        }
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .header("x-request-id", request_id);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.send_error(&e, request_id))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                ApiError::timeout(request_id)
            } else {
                ApiError::unreachable(request_id)
            }
        })?;
        decode(status, &bytes, retry_after, request_id)
    }

    /// A GET with a typed query.
    async fn get<T: DeserializeOwned, Q: Serialize>(
        &self,
        path: String,
        query: Option<&Q>,
    ) -> Result<T, ApiError> {
        self.run(Call {
            method: Method::GET,
            path,
            query: query.map(to_query).transpose()?,
            body: None,
            authenticated: true,
        })
        .await
    }

    /// A write with a typed body.
    async fn write<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: String,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        self.run(Call {
            method,
            path,
            query: None,
            body: body.map(to_json).transpose()?,
            authenticated: true,
        })
        .await
    }
}

/// `SessionEnded` for a refused refresh; a disabled account keeps the server's reason, since
/// entering the password again would not help.
fn ended_because(refused: ApiError) -> ApiError {
    match refused.kind {
        ErrorKind::AccountDisabled => ApiError {
            kind: ErrorKind::SessionEnded,
            ..refused
        },
        _ => ApiError::session_ended(),
    }
}

fn to_json<B: Serialize>(body: &B) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(|e| {
        ApiError::new(
            ErrorKind::Protocol,
            format!("cannot encode the request: {e}"),
            None,
        )
    })
}

fn to_query<Q: Serialize>(query: &Q) -> Result<String, ApiError> {
    serde_urlencoded::to_string(query).map_err(|e| {
        ApiError::new(
            ErrorKind::Protocol,
            format!("cannot encode the query: {e}"),
            None,
        )
    })
}

/// Reads a reply: the success envelope's `data`, or the error envelope as an `ApiError`, or a
/// protocol/server error when the body is neither.
fn decode<T: DeserializeOwned>(
    status: StatusCode,
    bytes: &[u8],
    retry_after: Option<u64>,
    request_id: &str,
) -> Result<T, ApiError> {
    if status.is_success() {
        return serde_json::from_slice::<SuccessEnvelope<T>>(bytes)
            .map(|envelope| envelope.data)
            .map_err(|_| ApiError::protocol(request_id, status.as_u16()));
    }
    match serde_json::from_slice::<ErrorEnvelope>(bytes) {
        Ok(envelope) if envelope.status == "error" => {
            Err(ApiError::from_envelope(envelope, retry_after))
        }
        _ => Err(ApiError::protocol(request_id, status.as_u16())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_garbage_are_protocol_or_server_errors() {
        let e =
            decode::<serde_json::Value>(StatusCode::OK, b"<html>hi</html>", None, "r").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        let e = decode::<serde_json::Value>(
            StatusCode::BAD_GATEWAY,
            b"<html>bad gateway</html>",
            None,
            "r",
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Server { status: 502 });
        assert_eq!(e.request_id.as_deref(), Some("r"));
    }

    #[test]
    fn unknown_response_fields_are_ignored() {
        let body = br#"{"status":"success","data":{"logged_out":true,"new_field":1},"request_id":"x","extra":2}"#;
        let out: crate::model::auth::LoggedOut = decode(StatusCode::OK, body, None, "r").unwrap();
        assert!(out.logged_out);
    }
}

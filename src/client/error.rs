//! `ApiError`: every way a call can fail, one kind per error code of API.md plus the failures
//! that never reach the server. Each carries a message a doctor can act on and the request id.

use chrono::{DateTime, Local, Utc};
use uuid::Uuid;

use crate::model::envelope::{ErrorEnvelope, FieldError, code};

#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    Unauthenticated,
    TokenExpired,
    SessionRevoked,
    InvalidCredentials,
    AccountLocked {
        locked_until: Option<DateTime<Utc>>,
    },
    AccountDisabled,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Validation {
        fields: Vec<FieldError>,
    },
    PayloadTooLarge,
    UnsupportedMediaType,
    Conflict,
    ConsultationActive {
        consultation_id: Option<Uuid>,
    },
    VersionConflict {
        current_version: Option<u32>,
    },
    ReportSigned,
    InvalidState,
    RateLimited {
        retry_after_s: u64,
    },
    Internal,
    Unavailable,
    /// No connection could be made (refused, DNS, reset).
    Unreachable,
    /// The server took longer than the request timeout.
    Timeout,
    /// The server failed without an envelope (a proxy's 502, say).
    Server {
        status: u16,
    },
    /// The answer is not the Synapse API (HTML, garbage, another service).
    Protocol,
    /// The session is over (refresh refused); the user must enter the password again.
    SessionEnded,
    /// No one is logged in on this client.
    NotLoggedIn,
    /// The password was right and the account needs a code next: give it with the token
    /// to `ApiClient::verify_mfa`.
    MfaRequired {
        mfa_token: String,
    },
    /// The authenticator or recovery code was wrong or already used.
    MfaCodeInvalid,
    /// The account's role needs a second factor it has not enrolled yet.
    MfaEnrollmentRequired,
    /// The account has a second factor already.
    MfaAlreadyEnabled,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>, request_id: Option<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            request_id,
        }
    }

    pub fn unreachable(request_id: &str) -> Self {
        Self::new(
            ErrorKind::Unreachable,
            "Server unreachable — check the address and your connection; retrying.",
            Some(request_id.to_string()),
        )
    }

    /// The server's TLS certificate was refused: not a network failure, so not retried.
    pub fn untrusted_certificate(request_id: &str, server: &str, problem: &str) -> Self {
        Self::new(
            ErrorKind::Protocol,
            format!(
                "The certificate of {server} is not trusted ({problem}). If the server uses your \
                 organisation's own certificate authority, set ca_certificate in the [client] \
                 table of the config file (or SYNAPSE_CA_CERTIFICATE) to its PEM file; otherwise \
                 check the server address."
            ),
            Some(request_id.to_string()),
        )
    }

    pub fn timeout(request_id: &str) -> Self {
        Self::new(
            ErrorKind::Timeout,
            "The server did not answer in time. Try again.",
            Some(request_id.to_string()),
        )
    }

    pub fn protocol(request_id: &str, status: u16) -> Self {
        if status >= 500 {
            return Self::new(
                ErrorKind::Server { status },
                format!("The server failed (HTTP {status}). Try again in a moment."),
                Some(request_id.to_string()),
            );
        }
        Self::new(
            ErrorKind::Protocol,
            format!(
                "The server answered something that is not the Synapse API (HTTP {status}). Check the server address."
            ),
            Some(request_id.to_string()),
        )
    }

    pub fn session_ended() -> Self {
        Self::new(
            ErrorKind::SessionEnded,
            "Your session has ended. Enter your password to continue.",
            None,
        )
    }

    pub fn not_logged_in() -> Self {
        Self::new(
            ErrorKind::NotLoggedIn,
            "Not logged in. Run `synapse login` first.",
            None,
        )
    }

    /// Whether the user must log in (again) to go on.
    pub fn needs_login(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::SessionEnded
                | ErrorKind::NotLoggedIn
                | ErrorKind::Unauthenticated
                | ErrorKind::SessionRevoked
                | ErrorKind::TokenExpired
        )
    }

    /// Whether the server could not be reached or answered with a failure of its own.
    pub fn is_offline(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Unreachable
                | ErrorKind::Timeout
                | ErrorKind::Server { .. }
                | ErrorKind::Unavailable
        )
    }

    /// Maps an error envelope to its kind, keeping the server's message (written for people).
    pub fn from_envelope(envelope: ErrorEnvelope, retry_after_header: Option<u64>) -> Self {
        let details = &envelope.error.details;
        let request_id = Some(envelope.request_id.clone());
        let message = envelope.error.message.clone();
        let kind = match envelope.error.code.as_str() {
            code::UNAUTHENTICATED => ErrorKind::Unauthenticated,
            code::TOKEN_EXPIRED => ErrorKind::TokenExpired,
            // Ended by the server's idle timeout or lifetime: to a client, a session that is
            // over like a revoked one; the message says which.
            code::SESSION_REVOKED | code::SESSION_EXPIRED => ErrorKind::SessionRevoked,
            code::INVALID_CREDENTIALS => ErrorKind::InvalidCredentials,
            code::ACCOUNT_LOCKED => {
                let locked_until = details["locked_until"]
                    .as_str()
                    .and_then(crate::model::time::parse_timestamp);
                if let Some(until) = locked_until {
                    let local = until.with_timezone(&Local);
                    return Self::new(
                        ErrorKind::AccountLocked {
                            locked_until: Some(until),
                        },
                        format!(
                            "Account locked until {} after too many failed logins. Wait, or ask an administrator to unlock it.",
                            local.format("%H:%M")
                        ),
                        request_id,
                    );
                }
                ErrorKind::AccountLocked { locked_until: None }
            }
            code::ACCOUNT_DISABLED => ErrorKind::AccountDisabled,
            code::FORBIDDEN => ErrorKind::Forbidden,
            code::NOT_FOUND => ErrorKind::NotFound,
            code::METHOD_NOT_ALLOWED => ErrorKind::MethodNotAllowed,
            code::VALIDATION_ERROR => ErrorKind::Validation {
                fields: serde_json::from_value(details["fields"].clone()).unwrap_or_default(),
            },
            code::PAYLOAD_TOO_LARGE => ErrorKind::PayloadTooLarge,
            code::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
            code::CONSULTATION_ACTIVE => ErrorKind::ConsultationActive {
                consultation_id: details["consultation_id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok()),
            },
            code::VERSION_CONFLICT => ErrorKind::VersionConflict {
                current_version: details["current_version"]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok()),
            },
            code::REPORT_SIGNED => ErrorKind::ReportSigned,
            code::INVALID_STATE => ErrorKind::InvalidState,
            code::CONFLICT => ErrorKind::Conflict,
            code::RATE_LIMITED => ErrorKind::RateLimited {
                retry_after_s: details["retry_after_s"]
                    .as_u64()
                    .or(retry_after_header)
                    .unwrap_or(1),
            },
            code::UNAVAILABLE => ErrorKind::Unavailable,
            code::MFA_REQUIRED => ErrorKind::MfaRequired {
                mfa_token: details["mfa_token"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            },
            code::MFA_CODE_INVALID => ErrorKind::MfaCodeInvalid,
            code::MFA_ENROLLMENT_REQUIRED => ErrorKind::MfaEnrollmentRequired,
            code::MFA_ALREADY_ENABLED => ErrorKind::MfaAlreadyEnabled,
            _ => ErrorKind::Internal,
        };
        Self::new(kind, message, request_id)
    }
}

/// What is wrong with the server's certificate, when that is why a request failed: the
/// rustls error somewhere in the error's sources (inside an I/O error, as hyper wraps it).
pub fn certificate_problem(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(rustls::Error::InvalidCertificate(why)) = error.downcast_ref::<rustls::Error>()
        {
            return Some(describe_certificate_error(why));
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(found) = certificate_problem(inner)
        {
            return Some(found);
        }
        current = error.source();
    }
    None
}

fn describe_certificate_error(why: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match why {
        E::UnknownIssuer => "issued by an authority this computer does not trust".to_string(),
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "issued for another name than the one in the server address".to_string()
        }
        E::Expired | E::ExpiredContext { .. } => "expired".to_string(),
        E::NotValidYet | E::NotValidYetContext { .. } => "not valid yet".to_string(),
        E::Revoked => "revoked".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::envelope::ErrorBody;

    fn envelope(code: &str, details: serde_json::Value) -> ErrorEnvelope {
        ErrorEnvelope {
            status: "error".into(),
            error: ErrorBody {
                code: code.into(),
                message: "server says".into(),
                details,
            },
            request_id: "req-1".into(),
        }
    }

    #[test]
    fn lockout_names_the_time_and_keeps_the_request_id() {
        let e = ApiError::from_envelope(
            envelope(
                "ACCOUNT_LOCKED",
                serde_json::json!({"locked_until": "2026-11-26T14:32:00.000Z"}),
            ),
            None,
        );
        assert!(matches!(
            e.kind,
            ErrorKind::AccountLocked {
                locked_until: Some(_)
            }
        ));
        assert!(e.message.starts_with("Account locked until "));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn details_are_read_into_the_kind() {
        let e = ApiError::from_envelope(
            envelope(
                "VERSION_CONFLICT",
                serde_json::json!({"current_version": 3}),
            ),
            None,
        );
        assert_eq!(
            e.kind,
            ErrorKind::VersionConflict {
                current_version: Some(3)
            }
        );
        let e = ApiError::from_envelope(envelope("RATE_LIMITED", serde_json::json!({})), Some(7));
        assert_eq!(e.kind, ErrorKind::RateLimited { retry_after_s: 7 });
        let e = ApiError::from_envelope(envelope("SOMETHING_NEW", serde_json::json!({})), None);
        assert_eq!(e.kind, ErrorKind::Internal);
        assert_eq!(e.message, "server says");
    }
}

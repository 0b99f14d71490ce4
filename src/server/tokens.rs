//! Credentials the server hands out and checks: signed access tokens (JWT HS256), opaque refresh
//! tokens stored only as hashes, and the bounded pool that runs password hashing off the
//! async executor.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::model::auth::{AccessClaims, Role};
use crate::store::password;

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Expired,
    Invalid,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl_s: i64,
    pub refresh_ttl_s: i64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl_s: i64, refresh_ttl_s: i64) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: clients refresh ahead of time, and tests can rely on it.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            access_ttl_s,
            refresh_ttl_s,
        }
    }

    pub fn issue_access(
        &self,
        user_id: Uuid,
        role: Role,
        session_id: Uuid,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id,
            role,
            sid: session_id,
            iat: now,
            exp: now + self.access_ttl_s,
            jti: Uuid::now_v7(),
            typ: "access".to_string(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn check_access(&self, token: &str) -> Result<AccessClaims, TokenProblem> {
        match jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation) {
            Ok(data) if data.claims.typ == "access" => Ok(data.claims),
            Ok(_) => Err(TokenProblem::Invalid),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenProblem::Expired),
            Err(_) => Err(TokenProblem::Invalid),
        }
    }
}

/// A fresh refresh token: 32 random bytes, URL-safe.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token: its SHA-256, so a database leak yields no
/// usable token.
pub fn refresh_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Runs argon2 on the blocking pool, at most `permits` at once, so a login flood queues here
/// instead of starving the executor that serves patient reads.
#[derive(Clone)]
pub struct PasswordGate {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified when the email is unknown so that unknown
    /// and known accounts answer in about the same time.
    decoy_hash: Arc<str>,
}

impl PasswordGate {
    pub fn new(permits: usize) -> anyhow::Result<PasswordGate> {
        let decoy = new_refresh_token();
        Ok(PasswordGate {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            decoy_hash: password::hash(&decoy)?.into(),
        })
    }

    pub async fn verify(&self, candidate: &str, hash: Option<&str>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let candidate = candidate.to_string();
        let (hash, real) = match hash {
            Some(h) => (h.to_string(), true),
            None => (self.decoy_hash.to_string(), false),
        };
        let matched =
            tokio::task::spawn_blocking(move || password::verify(&candidate, &hash)).await?;
        Ok(matched && real)
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_string();
        tokio::task::spawn_blocking(move || password::hash(&password)).await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_tokens_round_trip_and_expire() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 60, 600);
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys.issue_access(user, Role::Doctor, session).unwrap();
        let claims = keys.check_access(&token).unwrap();
        assert_eq!(
            (claims.sub, claims.sid, claims.role),
            (user, session, Role::Doctor)
        );

        let expired = TokenKeys::new(b"0123456789abcdef0123456789abcdef", -5, 600);
        let token = expired.issue_access(user, Role::Doctor, session).unwrap();
        assert_eq!(
            keys.check_access(&token).unwrap_err(),
            TokenProblem::Expired
        );

        let other = TokenKeys::new(b"another secret another secret 00", 60, 600);
        let token = other.issue_access(user, Role::Doctor, session).unwrap();
        assert_eq!(
            keys.check_access(&token).unwrap_err(),
            TokenProblem::Invalid
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(refresh_token_hash(&a).len(), 64);
        assert_ne!(refresh_token_hash(&a), a);
    }
}

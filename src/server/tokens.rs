//! Credentials the server hands out and checks: signed access tokens (JWT HS256), opaque refresh
//! tokens stored only as hashes, and the bounded pool that runs password hashing off the
//! async executor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::model::auth::{AccessClaims, MfaClaims, Role};
use crate::store::password;

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Expired,
    Invalid,
}

/// One signing key of access tokens, with the id its tokens carry in their `kid` header.
#[derive(Clone)]
struct SigningKey {
    id: String,
    decoding: DecodingKey,
}

impl SigningKey {
    fn new(secret: &[u8]) -> SigningKey {
        SigningKey {
            id: key_id(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// A key's id: a hash of the secret, so the header names the key without revealing it.
pub fn key_id(secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"synapse access token key\0");
    hasher.update(secret);
    hex::encode(&hasher.finalize()[..8])
}

/// Access tokens whose signature and shape were checked, with their claims: a client sends the
/// same token with every request for its whole life, and checking it again (base64, JSON, the
/// HMAC) was 6 % of a patient-list request. Only that verdict is kept. The expiry is checked
/// again at every use, and whether the session still stands is asked of the store at every
/// request, as before. Bounded: when full, the expired entries go, then all of them.
#[derive(Clone, Default)]
struct VerifiedTokens(Arc<Mutex<HashMap<String, AccessClaims>>>);

/// At most this many tokens are remembered (about 1.5 MB).
const VERIFIED_TOKENS: usize = 4096;

impl VerifiedTokens {
    fn get(&self, token: &str) -> Option<AccessClaims> {
        // A poisoned lock is a panic elsewhere mid-insert: check the token in full instead.
        self.0.lock().ok()?.get(token).cloned()
    }

    fn insert(&self, token: &str, claims: &AccessClaims, now: i64) {
        let Ok(mut verified) = self.0.lock() else {
            return;
        };
        if verified.len() >= VERIFIED_TOKENS {
            verified.retain(|_, claims| claims.exp >= now);
            if verified.len() >= VERIFIED_TOKENS {
                verified.clear();
            }
        }
        verified.insert(token.to_string(), claims.clone());
    }
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    current: SigningKey,
    /// The key before the current one, still accepted while the tokens it signed live: set
    /// during a key rotation, removed once `access_ttl_s` has passed.
    previous: Option<SigningKey>,
    validation: Validation,
    verified: VerifiedTokens,
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
            current: SigningKey::new(secret),
            previous: None,
            validation,
            verified: VerifiedTokens::default(),
            access_ttl_s,
            refresh_ttl_s,
        }
    }

    /// Also accepts tokens signed with `previous`, the key this one replaces.
    pub fn with_previous(mut self, previous: Option<&[u8]>) -> TokenKeys {
        self.previous = previous.map(SigningKey::new);
        self.verified = VerifiedTokens::default();
        self
    }

    /// The id of the key new tokens are signed with.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
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
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.id.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Checks the signature (with the key the token names), the type and the expiry. A token
    /// that claims to live longer than this server issues tokens for is refused, whoever
    /// signed it: the lifetime is the server's, not the token's.
    pub fn check_access(&self, token: &str) -> Result<AccessClaims, TokenProblem> {
        let now = chrono::Utc::now().timestamp();
        if let Some(claims) = self.verified.get(token) {
            // As `jsonwebtoken` decides it, with no leeway: good through its `exp` second.
            return if claims.exp < now {
                Err(TokenProblem::Expired)
            } else {
                Ok(claims)
            };
        }
        let claims = self.verify_access(token)?;
        self.verified.insert(token, &claims, now);
        Ok(claims)
    }

    fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenProblem> {
        let decoded = match jsonwebtoken::decode::<AccessClaims>(
            token,
            &self.current.decoding,
            &self.validation,
        ) {
            Ok(data) if named(&data.header, &self.current) => Ok(data),
            Ok(_) => Err(TokenProblem::Invalid),
            Err(e) => match (&self.previous, e.kind()) {
                (Some(previous), ErrorKind::InvalidSignature) => {
                    match jsonwebtoken::decode::<AccessClaims>(
                        token,
                        &previous.decoding,
                        &self.validation,
                    ) {
                        Ok(data) if data.header.kid.as_deref() == Some(previous.id.as_str()) => {
                            Ok(data)
                        }
                        Ok(_) => Err(TokenProblem::Invalid),
                        Err(e) => Err(problem(&e)),
                    }
                }
                _ => Err(problem(&e)),
            },
        }?;
        let claims = decoded.claims;
        if claims.typ != "access" {
            return Err(TokenProblem::Invalid);
        }
        if claims.exp - chrono::Utc::now().timestamp() > self.access_ttl_s {
            return Err(TokenProblem::Invalid);
        }
        Ok(claims)
    }
}

/// How long a login's `mfa_token` lets its second step come: long enough to open the app.
pub const MFA_TOKEN_TTL_S: i64 = 5 * 60;

impl TokenKeys {
    /// The token of a login whose password was right and that needs a code next: good only
    /// for `/auth/mfa/verify` (its `typ` is `mfa`, which no access check takes), for
    /// [`MFA_TOKEN_TTL_S`].
    pub fn issue_mfa(&self, user_id: Uuid) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = MfaClaims {
            sub: user_id,
            iat: now,
            exp: now + MFA_TOKEN_TTL_S,
            jti: Uuid::now_v7(),
            typ: "mfa".to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.id.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// The account a login's `mfa_token` is for, when it is one of ours, of type `mfa` and
    /// not expired.
    pub fn check_mfa(&self, token: &str) -> Result<Uuid, TokenProblem> {
        let keys = std::iter::once(&self.current).chain(self.previous.as_ref());
        let mut last = TokenProblem::Invalid;
        for key in keys {
            match jsonwebtoken::decode::<MfaClaims>(token, &key.decoding, &self.validation) {
                Ok(data) if named(&data.header, key) => {
                    let claims = data.claims;
                    if claims.typ != "mfa"
                        || claims.exp - chrono::Utc::now().timestamp() > MFA_TOKEN_TTL_S
                    {
                        return Err(TokenProblem::Invalid);
                    }
                    return Ok(claims.sub);
                }
                Ok(_) => return Err(TokenProblem::Invalid),
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                Err(e) => {
                    last = problem(&e);
                    break;
                }
            }
        }
        Err(last)
    }
}

/// Whether a token checked with `key` names it (a token from before key ids names none).
fn named(header: &Header, key: &SigningKey) -> bool {
    header.kid.as_deref().is_none_or(|kid| kid == key.id)
}

fn problem(error: &jsonwebtoken::errors::Error) -> TokenProblem {
    if matches!(error.kind(), ErrorKind::ExpiredSignature) {
        TokenProblem::Expired
    } else {
        TokenProblem::Invalid
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
    fn a_token_checked_before_still_expires_on_time() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 1, 600);
        let token = keys
            .issue_access(Uuid::now_v7(), Role::Doctor, Uuid::now_v7())
            .unwrap();
        let first = keys.check_access(&token).unwrap();
        assert_eq!(keys.check_access(&token).unwrap().jti, first.jti);
        // A token one character off is checked in full, not found among the checked ones.
        let mut altered = token.clone().into_bytes();
        let inside_signature = altered.len() - 5;
        altered[inside_signature] = if altered[inside_signature] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            keys.check_access(&altered).unwrap_err(),
            TokenProblem::Invalid
        );
        while chrono::Utc::now().timestamp() <= first.exp {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(
            keys.check_access(&token).unwrap_err(),
            TokenProblem::Expired
        );
    }

    #[test]
    fn the_checked_tokens_stay_bounded() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 60, 600);
        for _ in 0..VERIFIED_TOKENS + 10 {
            let token = keys
                .issue_access(Uuid::now_v7(), Role::Doctor, Uuid::now_v7())
                .unwrap();
            keys.check_access(&token).unwrap();
        }
        assert!(keys.verified.0.lock().unwrap().len() <= VERIFIED_TOKENS);
    }

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

    /// A token signed with the right key but claiming a longer life than the server gives.
    fn long_lived(secret: &[u8], ttl: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: Uuid::now_v7(),
            role: Role::Doctor,
            sid: Uuid::now_v7(),
            iat: now,
            exp: now + ttl,
            jti: Uuid::now_v7(),
            typ: "access".to_string(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key_id(secret));
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn a_token_claiming_a_longer_life_than_the_server_gives_is_refused() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let keys = TokenKeys::new(secret, 900, 3600);
        assert!(keys.check_access(&long_lived(secret, 900)).is_ok());
        assert_eq!(
            keys.check_access(&long_lived(secret, 100_000_000))
                .unwrap_err(),
            TokenProblem::Invalid
        );
    }

    #[test]
    fn the_previous_key_is_accepted_during_a_rotation_and_only_then() {
        let (old, new) = (
            b"the old secret the old secret 000".as_slice(),
            b"the new secret the new secret 000".as_slice(),
        );
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let issued_before = TokenKeys::new(old, 60, 600)
            .issue_access(user, Role::Doctor, session)
            .unwrap();
        let rotating = TokenKeys::new(new, 60, 600).with_previous(Some(old));
        assert_eq!(rotating.check_access(&issued_before).unwrap().sub, user);
        let issued_after = rotating.issue_access(user, Role::Doctor, session).unwrap();
        let header = jsonwebtoken::decode_header(&issued_after).unwrap();
        assert_eq!(header.kid.as_deref(), Some(rotating.current_key_id()));
        assert_eq!(rotating.check_access(&issued_after).unwrap().sub, user);
        // Once the previous key is dropped its tokens stop working.
        let rotated = TokenKeys::new(new, 60, 600);
        assert_eq!(
            rotated.check_access(&issued_before).unwrap_err(),
            TokenProblem::Invalid
        );
        // A token naming another key than the one that verifies it is refused.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("somebody-else".to_string());
        let claims = rotating.check_access(&issued_after).unwrap();
        let misnamed =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(new)).unwrap();
        assert_eq!(
            rotating.check_access(&misnamed).unwrap_err(),
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

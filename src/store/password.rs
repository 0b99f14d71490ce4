//! Password hashing with argon2id. CPU- and memory-heavy on purpose: callers on the async
//! executor run it through `spawn_blocking` (the server also bounds how many run at once).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// Hashes a password into a PHC string with a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let hashed: PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))?;
    Ok(hashed.to_string())
}

/// Whether `password` matches the stored PHC `hash`. A malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn verifies_only_the_right_password() {
        let hashed = super::hash("correct horse").unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", &hashed));
        assert!(!super::verify("wrong horse", &hashed));
        assert!(!super::verify("correct horse", "not a hash"));
    }
}

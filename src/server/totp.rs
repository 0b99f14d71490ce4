//! The second factor's arithmetic: TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second
//! steps, by totp-rs), which time step a typed code belongs to, the shared secret as text (the
//! store seals it under the data keys, `store::cipher`), and the single-use recovery codes. No
//! HTTP and no database here.

use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds of one time step, as every authenticator app counts them.
pub const STEP_S: u64 = 30;
/// Steps either side of now whose codes are taken: a phone's clock a little off, or a code
/// typed as it changed.
const SKEW: u64 = 1;
/// The name apps show beside the account.
const ISSUER: &str = "Synapse";
/// How many recovery codes an enrolment gets.
pub const RECOVERY_CODES: usize = 10;
/// Letters of a recovery code: lowercase without the look-alikes 0/o, 1/l/i.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// The TOTP generator of a secret, for `account` (the email apps show).
fn generator(secret: &[u8], account: &str, digits: u8) -> anyhow::Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(SKEW as u16)
        .with_step_duration(STEP_S)
        .with_secret(secret.to_vec())
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| anyhow::anyhow!("TOTP settings: {e:?}"))
}

/// The code of `secret` at `time` (seconds since the epoch) with `digits` digits.
pub fn code_at(secret: &[u8], time: u64, digits: u8) -> anyhow::Result<String> {
    Ok(generator(secret, "", digits)?.generate(time).to_string())
}

/// A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation).
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// The secret as apps take it typed in: base32 without padding.
pub fn secret_text(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The `otpauth://totp/Synapse:<email>?secret=…&issuer=Synapse…` URI of the QR code.
pub fn otpauth_uri(secret: &[u8], account: &str) -> anyhow::Result<String> {
    generator(secret, account, 6)?
        .to_url()
        .map_err(|e| anyhow::anyhow!("otpauth URI: {e:?}"))
}

/// What a typed code turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// Six digits (spaces allowed): a TOTP code.
    Totp(String),
    /// Anything else, normalised (lowercase, no spaces or dashes): maybe a recovery code.
    Recovery(String),
}

pub fn classify(code: &str) -> Typed {
    let cleaned: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if cleaned.len() == 6 && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        Typed::Totp(cleaned)
    } else {
        Typed::Recovery(cleaned.to_lowercase())
    }
}

/// How a TOTP code compares with the secret's codes around `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The code of this step, later than the last accepted one.
    Fresh(u64),
    /// The code of a step at or before the last accepted one: a replay.
    Used,
    Wrong,
}

/// Which step's code `code` is, within [`SKEW`] steps of `time`, given the last accepted step.
pub fn match_code(secret: &[u8], code: &str, time: u64, last_step: i64) -> anyhow::Result<Match> {
    let totp = generator(secret, "", 6)?;
    let now = time / STEP_S;
    let mut used = false;
    for step in now.saturating_sub(SKEW)..=now + SKEW {
        if totp.generate(step * STEP_S).to_string() == code {
            if i64::try_from(step).unwrap_or(i64::MAX) > last_step {
                return Ok(Match::Fresh(step));
            }
            used = true;
        }
    }
    Ok(if used { Match::Used } else { Match::Wrong })
}

/// Ten new recovery codes, as shown (`xxxxx-xxxxx`, about 49 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let letters: String = (0..10)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &letters[..5], &letters[5..])
        })
        .collect()
}

/// What the database keeps of a recovery code: the SHA-256 of its normalised form. The codes
/// are random and long enough, and guesses count towards the lockout, so a fast hash does.
pub fn recovery_hash(code: &str) -> String {
    let normalised = match classify(code) {
        Typed::Totp(digits) => digits,
        Typed::Recovery(text) => text,
    };
    let mut hasher = Sha256::new();
    hasher.update(b"synapse recovery code\0");
    hasher.update(normalised.as_bytes());
    hex::encode(hasher.finalize())
}

/// The secret of its base32 text (`secret_text`), as the store keeps it sealed.
pub fn secret_from_text(text: &str) -> anyhow::Result<Vec<u8>> {
    Secret::try_from_base32(text)
        .map(|secret| secret.as_bytes().to_vec())
        .map_err(|e| anyhow::anyhow!("a stored TOTP secret is not base32: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows: the ASCII secret "12345678901234567890", 8 digits.
    #[test]
    fn codes_are_rfc_6238_appendix_b() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(secret, time, 8).unwrap(), expected, "T = {time}");
        }
        // The 6-digit codes apps show are the last six digits of the same numbers.
        assert_eq!(code_at(secret, 59, 6).unwrap(), "287082");
    }

    #[test]
    fn a_code_matches_its_step_once_and_neighbours_are_taken() {
        let secret = new_secret();
        let time = 1_800_000_015;
        let step = time / STEP_S;
        let code = code_at(&secret, time, 6).unwrap();
        assert_eq!(
            match_code(&secret, &code, time, 0).unwrap(),
            Match::Fresh(step)
        );
        assert_eq!(
            match_code(&secret, &code, time, step as i64).unwrap(),
            Match::Used
        );
        // The previous step's code, typed as it changed, still counts.
        let earlier = code_at(&secret, time - STEP_S, 6).unwrap();
        assert_eq!(
            match_code(&secret, &earlier, time, 0).unwrap(),
            Match::Fresh(step - 1)
        );
        let old = code_at(&secret, time - 5 * STEP_S, 6).unwrap();
        if old != code && old != earlier {
            assert_eq!(match_code(&secret, &old, time, 0).unwrap(), Match::Wrong);
        }
    }

    #[test]
    fn typed_codes_are_classified_and_recovery_codes_hash_alike_however_typed() {
        assert_eq!(classify("123 456"), Typed::Totp("123456".into()));
        assert_eq!(
            classify("abcde-fghjk"),
            Typed::Recovery("abcdefghjk".into())
        );
        assert_eq!(recovery_hash("ABCDE-FGHJK"), recovery_hash("abcdefghjk"));
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
    }

    #[test]
    fn a_secret_comes_back_from_its_text() {
        let secret = new_secret();
        assert_eq!(secret_from_text(&secret_text(&secret)).unwrap(), secret);
        assert!(secret_from_text("v1:not base32!").is_err());
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_account() {
        let uri = otpauth_uri(&new_secret(), "anna@example.org").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Synapse:anna%40example.org?"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Synapse"), "{uri}");
    }
}

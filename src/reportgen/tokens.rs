//! The words of a prescription line as the parser compares them: each raw token with a
//! normalised key, and the kinds of token (number, unit, course shorthand) it is made of.

use super::vocabulary::UNITS;

/// A token's comparable form: ASCII lower case without the dots and punctuation people put in
/// abbreviations ("b.d.", "q.d.s.", "daily,"). Tokens that cannot be a keyword (non-ASCII,
/// long) get an empty key, which matches nothing. Kept on the stack: a medication line is
/// parsed for every generated report.
#[derive(Clone, Copy)]
pub(super) struct Key {
    buf: [u8; 16],
    len: usize,
}

impl Key {
    pub(super) fn of(token: &str) -> Key {
        let mut key = Key {
            buf: [0; 16],
            len: 0,
        };
        for &b in token.as_bytes() {
            if matches!(b, b'.' | b',' | b';' | b':' | b'(' | b')') {
                continue;
            }
            if !b.is_ascii() || key.len == key.buf.len() {
                key.len = 0;
                return key;
            }
            key.buf[key.len] = b.to_ascii_lowercase();
            key.len += 1;
        }
        key
    }

    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    pub(super) fn is(&self, words: &[&str]) -> bool {
        let key = self.as_str();
        !key.is_empty() && words.contains(&key)
    }
}

pub(super) struct Token<'a> {
    pub(super) raw: &'a str,
    pub(super) key: Key,
}

pub(super) fn is_number(token: &Token) -> bool {
    token
        .raw
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '½' | '¼' | '¾' | '⅓' | '⅔'))
}

pub(super) fn is_unit(token: &Token) -> bool {
    if token.key.is(UNITS) || matches!(token.raw, "µg" | "μg") {
        return true;
    }
    // "mg/5ml", "units/kg": a unit per something.
    let key = token.key.as_str();
    key.split_once('/')
        .is_some_and(|(unit, _)| !unit.is_empty() && UNITS.contains(&unit))
}

/// UK shorthand for a course: "2/52" weeks, "5/7" days, "6/12" months.
pub(super) fn is_course_shorthand(token: &Token) -> bool {
    let key = token.key.as_str();
    key.split_once('/').is_some_and(|(n, d)| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && matches!(d, "7" | "12" | "52")
    })
}

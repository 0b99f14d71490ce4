//! One diagnosis: its ICD-10 code, written before or after the description, and the
//! description.

use super::bullets::strip_bullet;
use crate::model::report::Diagnosis;

/// One diagnosis: "F32.1 Moderate depressive episode", "J45 - Asthma",
/// "Generalised anxiety disorder (F41.1)" or plain text.
pub(super) fn diagnosis(piece: &str) -> Option<Diagnosis> {
    let (_, piece) = strip_bullet(piece.trim());
    let piece = piece.trim();
    if piece.is_empty() {
        return None;
    }
    if let Some((code, rest)) = leading_code(piece) {
        let description = rest
            .trim_start_matches(|c: char| {
                c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | ',' | '.')
            })
            .trim();
        // The description is required; a bare code is its own description.
        let description = if description.is_empty() {
            code.clone()
        } else {
            description.to_string()
        };
        return Some(Diagnosis {
            code: Some(code),
            description,
        });
    }
    if let Some(open) = piece.rfind('(')
        && let Some(inner) = piece[open + 1..].strip_suffix(')')
        && let Some((code, "")) = leading_code(inner.trim())
    {
        let description = piece[..open].trim();
        if !description.is_empty() {
            return Some(Diagnosis {
                code: Some(code),
                description: description.to_string(),
            });
        }
    }
    Some(Diagnosis {
        code: None,
        description: piece.to_string(),
    })
}

/// An ICD-10-like code at the start of `text` ("F32.1", "J45", "m54.50", "C7A.0"), upper-cased,
/// and the text after it. The code must end at a word boundary.
fn leading_code(text: &str) -> Option<(String, &str)> {
    let b = text.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_alphabetic() || !b[1].is_ascii_digit() {
        return None;
    }
    // The third character is a digit, or a capital letter in the few codes that have one.
    if !(b[2].is_ascii_digit() || b[2].is_ascii_uppercase()) {
        return None;
    }
    let mut end = 3;
    if b.get(3) == Some(&b'.') {
        let extra = b[4..]
            .iter()
            .take(5)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if (1..=4).contains(&extra) {
            end = 4 + extra;
        }
    }
    if b.get(end)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c >= 0x80)
    {
        return None;
    }
    let code = text[..end].to_ascii_uppercase();
    // Vitamin B12 is far more often written in notes than a code of that shape.
    if code == "B12" {
        return None;
    }
    Some((code, &text[end..]))
}

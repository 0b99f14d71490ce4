//! One medication line into its fields: the drug, then the dose, frequency and duration in
//! whatever order they are written, and the instructions that are left.

use super::prescription::{dosage_at, duration_at, frequency_at, starts_detail};
use super::tokens::{Key, Token};
use crate::model::report::Medication;

/// Splits "… - take with food" or "…; take with food" into the prescription and its
/// instructions.
fn split_instructions(item: &str) -> (&str, Option<&str>) {
    let cut = [" - ", " – ", " — ", ";"]
        .iter()
        .filter_map(|sep| item.find(sep).map(|at| (at, sep.len())))
        .min_by_key(|(at, _)| *at);
    match cut {
        Some((at, len)) if !item[..at].trim().is_empty() => {
            let tail = item[at + len..].trim();
            (&item[..at], (!tail.is_empty()).then_some(tail))
        }
        _ => (item, None),
    }
}

fn join(tokens: &[Token]) -> String {
    let mut text = String::new();
    for token in tokens {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(token.raw);
    }
    text
}

/// A field's text without the comma that separated it from the next one.
fn field(tokens: &[Token]) -> Option<String> {
    let text = join(tokens);
    let trimmed = text.trim_end_matches([',', ';']).trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == text.len() {
        Some(text)
    } else {
        Some(trimmed.to_string())
    }
}

/// One medication line: "Sertraline 50 mg once daily for 4 weeks - take with food". The drug is
/// everything before the first dose, frequency or duration; after those, the first word that
/// fits none of them starts the instructions, so phrases like "increase to 100 mg after 2
/// weeks" stay whole.
pub(super) fn medication(item: &str) -> Medication {
    let (head, tail) = split_instructions(item);
    let tokens: Vec<Token> = head
        .split_whitespace()
        .map(|raw| Token {
            raw,
            key: Key::of(raw),
        })
        .collect();

    // The first word always belongs to the drug, so the drug is never empty.
    let mut drug_end = 1.min(tokens.len());
    while drug_end < tokens.len()
        && !tokens[drug_end - 1].raw.ends_with(',')
        && !starts_detail(&tokens, drug_end)
    {
        drug_end += 1;
    }

    let mut dosage = None;
    let mut frequency = None;
    let mut duration = None;
    let mut i = drug_end;
    while i < tokens.len() {
        if frequency.is_none()
            && let Some(mut n) = frequency_at(&tokens, i)
        {
            // "twice daily as needed": one frequency.
            while i + n < tokens.len()
                && !tokens[i + n - 1].raw.ends_with(',')
                && let Some(more) = frequency_at(&tokens, i + n)
            {
                n += more;
            }
            frequency = field(&tokens[i..i + n]);
            i += n;
        } else if duration.is_none()
            && let Some((skip, n)) = duration_at(&tokens, i)
        {
            duration = field(&tokens[i + skip..i + n]);
            i += n;
        } else if dosage.is_none()
            && let Some(n) = dosage_at(&tokens, i)
        {
            dosage = field(&tokens[i..i + n]);
            i += n;
        } else {
            break;
        }
        // A comma after a recognised part ends the structured prescription.
        if tokens[i - 1].raw.ends_with(',') {
            break;
        }
    }

    let leftover = field(&tokens[i.min(tokens.len())..]);
    let instructions = match (leftover, tail) {
        (Some(left), Some(tail)) => Some(format!("{left}; {tail}")),
        (Some(left), None) => Some(left),
        (None, Some(tail)) => Some(tail.to_string()),
        (None, None) => None,
    };
    Medication {
        drug: field(&tokens[..drug_end]).unwrap_or_else(|| head.trim().to_string()),
        dosage,
        // The notes' way of saying the route varies too much to read reliably; the doctor
        // fills it in the editor.
        route: None,
        frequency,
        duration,
        instructions,
    }
}

//! How to reach a patient: phone numbers from the ranges set aside for fiction, emails at the
//! reserved example domains, and made-up addresses, each in the formats people write them.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;

use super::patient::initial;
use super::random::pick;
use super::tables::tables;
use crate::model::search::fold;

fn digits(rng: &mut StdRng, out: &mut String, count: usize) {
    for _ in 0..count {
        out.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
}

/// Numbers from ranges set aside for drama and examples, in the formats people write them.
pub(super) fn phone(rng: &mut StdRng) -> String {
    let mut p = String::with_capacity(20);
    match rng.random_range(0..6) {
        0 => {
            // India: "+91 98765 43210"
            p.push_str("+91 ");
            p.push(char::from(b'6' + rng.random_range(0..4u8)));
            digits(rng, &mut p, 4);
            p.push(' ');
            digits(rng, &mut p, 5);
        }
        1 => {
            // North America: "(555) 013-2244"
            p.push_str("(555) 0");
            digits(rng, &mut p, 2);
            p.push('-');
            digits(rng, &mut p, 4);
        }
        2 => {
            // UK mobile, national: "07700 900123"
            p.push_str("07700 900");
            digits(rng, &mut p, 3);
        }
        3 => {
            // UK mobile, international: "+44 7700 900123"
            p.push_str("+44 7700 900");
            digits(rng, &mut p, 3);
        }
        4 => {
            // North America, dotted: "555.013.2244"
            p.push_str("555.01");
            digits(rng, &mut p, 1);
            p.push('.');
            digits(rng, &mut p, 4);
        }
        _ => {
            // Australia: "+61 491 570 156"
            p.push_str("+61 491 570 ");
            digits(rng, &mut p, 3);
        }
    }
    p
}

/// Lower-case ASCII for an email's local part: the name folded as search folds it (accents
/// and case dropped), keeping only ASCII letters and digits.
fn push_ascii(out: &mut String, name: &str) {
    out.extend(
        fold(name)
            .chars()
            .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
    );
}

pub(super) fn email(rng: &mut StdRng, first: &str, full_name: &str, born: NaiveDate) -> String {
    let last = full_name.rsplit(' ').next().unwrap_or(full_name);
    let mut e = String::with_capacity(40);
    match rng.random_range(0..5) {
        0 | 1 => {
            push_ascii(&mut e, first);
            e.push('.');
            push_ascii(&mut e, last);
        }
        2 => {
            push_ascii(&mut e, first);
            push_ascii(&mut e, last);
            e.push_str(&rng.random_range(1..100).to_string());
        }
        3 => {
            push_ascii(&mut e, initial(first));
            push_ascii(&mut e, last);
        }
        _ => {
            push_ascii(&mut e, first);
            e.push('_');
            push_ascii(&mut e, last);
            e.push_str(&format!("{:02}", born.year().rem_euclid(100)));
        }
    }
    if e.is_empty() || e.starts_with('.') || e.starts_with('_') {
        e.insert_str(0, "patient");
    }
    e.push('@');
    e.push_str(pick(rng, &tables().email_domains));
    e
}

pub(super) fn address(rng: &mut StdRng) -> String {
    let number = rng.random_range(1..240);
    match rng.random_range(0..4) {
        0 => format!(
            "{number} {} {}, {}",
            pick(rng, &tables().streets),
            pick(rng, &["Street", "Road", "Lane", "Avenue", "Close", "Drive"]),
            pick(rng, &tables().towns)
        ),
        1 => format!(
            "Flat {}{}, {number} {} Road, {}",
            rng.random_range(1..30),
            pick(rng, &["", "A", "B", "C"]),
            pick(rng, &tables().streets),
            pick(rng, &tables().towns)
        ),
        2 => format!(
            "{number} {} Street, {} {}",
            pick(rng, &tables().streets),
            pick(rng, &tables().towns),
            rng.random_range(10_000..99_999)
        ),
        _ => format!(
            "{} Cottage, {} Lane, {}",
            pick(rng, &tables().streets),
            pick(rng, &tables().streets),
            pick(rng, &tables().towns)
        ),
    }
}

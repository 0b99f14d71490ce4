//! The parts of a prescription in a run of tokens: where a dose, a frequency or a duration
//! starts and how many tokens it spans.

use super::tokens::{Token, is_course_shorthand, is_number, is_unit};
use super::vocabulary::{
    DURATION_FILLERS, EVERY_UNITS, FREQUENCY_WORDS, NUMBER_WORDS, PERIOD_LINKS, PERIODS, TIME_UNITS,
};

/// A frequency starting at token `i`, as the number of tokens it spans.
pub(super) fn frequency_at(t: &[Token], i: usize) -> Option<usize> {
    let key = t[i].key;
    let k = key.as_str();
    let next = |j: usize| t.get(i + j).map(|t| t.key);
    let next_is = |j: usize, words: &[&str]| next(j).is_some_and(|k| k.is(words));
    // "daily", "twice", "4x", "2 times" may be followed by "a day", "daily", "per week".
    let period = |j: usize| {
        if next_is(j, PERIODS) {
            1
        } else if next_is(j, PERIOD_LINKS) && next_is(j + 1, PERIODS) {
            2
        } else {
            0
        }
    };
    if key.is(FREQUENCY_WORDS) {
        return Some(1);
    }
    if matches!(k, "once" | "twice" | "thrice") {
        return Some(1 + period(1));
    }
    let digits = k.bytes().take_while(u8::is_ascii_digit).count();
    // "q4h", "q12h"
    if k.len() > 2
        && k.starts_with('q')
        && k.ends_with('h')
        && k[1..k.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        return Some(1);
    }
    // "4-hourly", "6hourly"
    if digits > 0 && matches!(&k[digits..], "-hourly" | "hourly") {
        return Some(1);
    }
    // "3x daily"
    if digits > 0 && &k[digits..] == "x" {
        return Some(1 + period(1));
    }
    // "3 times a day", "three times daily"
    if ((digits == k.len() && digits > 0) || key.is(NUMBER_WORDS)) && next_is(1, &["times", "x"]) {
        return Some(2 + period(2));
    }
    match k {
        "every" | "each" => {
            let skip = usize::from(
                next_is(1, &["other"])
                    || next_is(1, NUMBER_WORDS)
                    || t.get(i + 1).is_some_and(is_number),
            );
            next_is(1 + skip, EVERY_UNITS).then_some(2 + skip)
        }
        "at" => next_is(
            1,
            &[
                "night",
                "bedtime",
                "breakfast",
                "lunch",
                "teatime",
                "dinner",
            ],
        )
        .then_some(2),
        "in" => {
            (next_is(1, &["the"]) && next_is(2, &["morning", "evening", "afternoon"])).then_some(3)
        }
        "as" => next_is(1, &["needed", "required", "directed"]).then_some(2),
        "when" | "if" => next_is(1, &["needed", "required"]).then_some(2),
        "before" => next_is(1, &["bed", "bedtime"]).then_some(2),
        _ => None,
    }
}

/// A duration starting at token `i`: how many leading tokens to drop ("for", "x") and how many
/// tokens it spans in all.
pub(super) fn duration_at(t: &[Token], i: usize) -> Option<(usize, usize)> {
    let key = t[i].key;
    match key.as_str() {
        "for" => {
            let mut j = i + 1;
            while j < t.len() && j < i + 4 && t[j].key.is(DURATION_FILLERS) {
                j += 1;
            }
            let token = t.get(j)?;
            if is_course_shorthand(token) {
                return Some((1, j + 1 - i));
            }
            if is_number(token) || token.key.is(NUMBER_WORDS) {
                j += 1;
            }
            t.get(j)
                .is_some_and(|u| u.key.is(TIME_UNITS))
                .then_some((1, j + 1 - i))
        }
        "x" => {
            let number = t.get(i + 1)?;
            if is_course_shorthand(number) {
                return Some((1, 2));
            }
            (is_number(number) && t.get(i + 2).is_some_and(|u| u.key.is(TIME_UNITS)))
                .then_some((1, 3))
        }
        "ongoing" | "indefinitely" | "long-term" | "longterm" | "lifelong" => Some((0, 1)),
        // "until review", "until seen in clinic": to the end of the phrase.
        "until" => {
            let mut n = 1;
            while i + n < t.len() && !t[i + n - 1].raw.ends_with(',') {
                n += 1;
            }
            Some((0, n))
        }
        _ if t[i].raw == "×" => duration_at_after_times(t, i),
        _ if is_course_shorthand(&t[i]) => Some((0, 1)),
        _ if is_number(&t[i]) && t.get(i + 1).is_some_and(|u| u.key.is(TIME_UNITS)) => Some((0, 2)),
        _ => None,
    }
}

/// "× 7 days", written with the multiplication sign.
fn duration_at_after_times(t: &[Token], i: usize) -> Option<(usize, usize)> {
    let number = t.get(i + 1)?;
    (is_number(number) && t.get(i + 2).is_some_and(|u| u.key.is(TIME_UNITS))).then_some((1, 3))
}

/// A dose starting at token `i` ("50 mg", "2.5mg", "1-2 tablets", "30/500 2 tablets"), as the
/// number of tokens it spans.
pub(super) fn dosage_at(t: &[Token], i: usize) -> Option<usize> {
    let first = &t[i];
    let word = first.key.is(NUMBER_WORDS);
    if !is_number(first) && !word {
        return None;
    }
    if word && !t.get(i + 1).is_some_and(is_unit) {
        return None;
    }
    let mut n = 1;
    while i + n < t.len() && !t[i + n - 1].raw.ends_with(',') {
        let token = &t[i + n];
        let more = is_unit(token) || (is_number(token) && t.get(i + n + 1).is_some_and(is_unit));
        if !more {
            break;
        }
        n += 1;
    }
    Some(n)
}

pub(super) fn starts_detail(t: &[Token], i: usize) -> bool {
    frequency_at(t, i).is_some() || duration_at(t, i).is_some() || dosage_at(t, i).is_some()
}

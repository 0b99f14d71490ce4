//! Turning a consultation's free-text notes into a structured draft report.
//!
//! Doctors write notes under familiar headings ("History:", "MSE:", "Dx:", "Rx:", "Plan:" …).
//! [`generate`] reads them line by line, files each line under the section its heading names,
//! and parses the list sections (diagnoses, medications, recommendations) into their fields.
//! It is pure, deterministic and allocation-light on purpose: it runs for every report the
//! server drafts and for hundreds of thousands of reports when synthetic data is seeded, so it
//! makes a single pass over the notes and uses no regular expressions.
//!
//! It never invents content. Whatever it cannot place stays in the text it came from (the
//! history, the drug name, the instructions), so the doctor reviewing the draft loses nothing.

use std::borrow::Cow;
use std::fmt;

use crate::model::report::{Diagnosis, Medication, ReportContent};

/// Written into each report's `generator` field, so a report says what drafted it.
pub const GENERATOR: &str = "synapse-notes-v1";

/// A draft report and how complete its sections are.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedReport {
    pub content: ReportContent,
    /// 0.0–1.0, two decimals: the weighted share of the seven sections the notes filled.
    pub confidence: f64,
}

/// Why no draft could be built. `Display` is a sentence for the doctor; the server stores it as
/// the report's `failure_reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationError {
    /// The notes are empty or only whitespace.
    NoNotes,
    /// The notes hold headings but no text under any of them.
    NoContent,
}

impl fmt::Display for GenerationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GenerationError::NoNotes => {
                "The consultation has no notes to build a report from. \
                 Write the report by hand or add an addendum."
            }
            GenerationError::NoContent => {
                "The consultation notes have section headings but nothing written under them, \
                 so there is nothing to build a report from. \
                 Write the report by hand or add an addendum."
            }
        })
    }
}

impl std::error::Error for GenerationError {}

/// Builds a draft report from consultation notes.
///
/// `chief_complaint` is accepted so the caller hands over everything it knows about the
/// consultation, but it is deliberately never copied into a section: a draft that states an
/// assessment or history the doctor did not write would be an invented clinical statement.
pub fn generate(
    notes: &str,
    chief_complaint: Option<&str>,
) -> Result<GeneratedReport, GenerationError> {
    let _ = chief_complaint;
    let notes = sanitize(notes);
    if notes.trim().is_empty() {
        return Err(GenerationError::NoNotes);
    }

    let mut draft = Draft::default();
    // Text before the first heading, and notes with no headings at all, are history.
    let mut section = Section::History;
    for line in notes.split('\n') {
        match heading(line) {
            Some((next, rest)) => {
                section = next;
                draft.start(section);
                // Text after the colon is the section's first line; it is never a continuation.
                draft.line(section, rest, false);
            }
            None => draft.line(section, line, true),
        }
    }

    let content = draft.finish();
    if content == ReportContent::default() {
        return Err(GenerationError::NoContent);
    }
    let confidence = confidence_of(&content);
    Ok(GeneratedReport {
        content,
        confidence,
    })
}

/// How complete a report's sections are, 0.0–1.0 rounded to two decimals. The assessment and
/// the diagnoses weigh most: a report without them is the least useful to sign.
pub fn confidence_of(content: &ReportContent) -> f64 {
    let filled = [
        (content.history.is_some(), 0.15),
        (content.mental_status.is_some(), 0.10),
        (content.assessment.is_some(), 0.20),
        (!content.diagnoses.is_empty(), 0.20),
        (!content.medication_plan.is_empty(), 0.10),
        (!content.recommendations.is_empty(), 0.15),
        (content.follow_up.is_some(), 0.10),
    ];
    let score: f64 = filled.iter().filter(|(f, _)| *f).map(|(_, w)| w).sum();
    ((score * 100.0).round() / 100.0).clamp(0.0, 1.0)
}

/// Control characters other than newline and tab never reach a report (the API refuses them in
/// every field, so a doctor could not save an edited draft that held one). A carriage return
/// ends a line; any other control character becomes a space, so the words around it stay apart.
/// Clean notes, the usual case, are borrowed without a copy.
fn sanitize(notes: &str) -> Cow<'_, str> {
    if !notes
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(notes);
    }
    let mut clean = String::with_capacity(notes.len());
    let mut chars = notes.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => clean.push('\n'),
            '\n' | '\t' => clean.push(c),
            c if c.is_control() => clean.push(' '),
            c => clean.push(c),
        }
    }
    Cow::Owned(clean)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    History,
    MentalStatus,
    Assessment,
    Diagnoses,
    Medications,
    Recommendations,
    FollowUp,
}

/// Headings are short; looking no further than this for the colon keeps long lines cheap and
/// stops "Patient says: …" deep inside a sentence from being taken for one.
const MAX_HEADING_BYTES: usize = 48;

/// If the line opens with a known heading ("Plan:", "## Dx:", "**MSE:**"), the section and the
/// text after the colon.
fn heading(line: &str) -> Option<(Section, &str)> {
    let colon = line
        .as_bytes()
        .iter()
        .take(MAX_HEADING_BYTES)
        .position(|&b| b == b':')?;
    // ':' is ASCII, so both slices start and end on character boundaries.
    let label = line[..colon].trim().trim_start_matches('#').trim_start();
    let label = strip_emphasis(label, str::strip_prefix).trim();
    let label = strip_emphasis(label, str::strip_suffix).trim();
    let section = section_named(label)?;
    let rest = &line[colon + 1..];
    Some((section, strip_emphasis(rest, str::strip_prefix)))
}

/// Removes Markdown bold markers (`**` or `__`) on one side of a heading.
fn strip_emphasis<'a>(
    text: &'a str,
    strip: fn(&'a str, &'static str) -> Option<&'a str>,
) -> &'a str {
    strip(text, "**")
        .or_else(|| strip(text, "__"))
        .unwrap_or(text)
}

/// The section a heading label names, compared case-insensitively with spaces, hyphens and
/// underscores treated alike ("Follow-up", "follow up", "FOLLOW_UP").
fn section_named(label: &str) -> Option<Section> {
    let mut buf = [0u8; MAX_HEADING_BYTES];
    let mut len = 0;
    for &b in label.as_bytes() {
        let b = match b {
            b'a'..=b'z' => b,
            b'A'..=b'Z' => b.to_ascii_lowercase(),
            b' ' | b'\t' | b'-' | b'_' => b' ',
            // Digits, punctuation and non-ASCII letters appear in no heading we know.
            _ => return None,
        };
        if b == b' ' && (len == 0 || buf[len - 1] == b' ') {
            continue;
        }
        buf[len] = b;
        len += 1;
    }
    while len > 0 && buf[len - 1] == b' ' {
        len -= 1;
    }
    let section = match &buf[..len] {
        b"history"
        | b"hpi"
        | b"hpc"
        | b"presenting complaint"
        | b"history of presenting complaint"
        | b"history of presenting illness"
        | b"history of present illness" => Section::History,
        b"mental status"
        | b"mse"
        | b"mental status examination"
        | b"mental state examination"
        | b"mental state"
        | b"examination"
        | b"exam"
        | b"physical examination" => Section::MentalStatus,
        b"assessment" | b"impression" | b"clinical impression" => Section::Assessment,
        b"diagnosis" | b"diagnoses" | b"dx" | b"working diagnosis" => Section::Diagnoses,
        b"medications" | b"medication" | b"meds" | b"rx" | b"prescription" | b"prescriptions"
        | b"medication plan" => Section::Medications,
        b"plan" | b"recommendations" | b"recommendation" | b"management" | b"management plan" => {
            Section::Recommendations
        }
        b"follow up" | b"followup" => Section::FollowUp,
        _ => return None,
    };
    Some(section)
}

/// A free-text section: lines kept in order, trimmed, runs of blank lines folded into one.
#[derive(Default)]
struct Text {
    text: String,
    blank_pending: bool,
}

impl Text {
    fn push_line(&mut self, line: &str) {
        let line = line.trim();
        if line.is_empty() {
            self.blank_pending = !self.text.is_empty();
            return;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
            if self.blank_pending {
                self.text.push('\n');
            }
        }
        self.blank_pending = false;
        self.text.push_str(line);
    }

    /// A repeated heading continues the section after a blank line.
    fn restart(&mut self) {
        self.blank_pending = !self.text.is_empty();
    }

    fn finish(self) -> Option<String> {
        (!self.text.is_empty()).then_some(self.text)
    }
}

#[derive(Default)]
struct Draft {
    history: Text,
    mental_status: Text,
    assessment: Text,
    follow_up: Text,
    diagnoses: Vec<Diagnosis>,
    medications: Vec<Medication>,
    recommendations: Vec<String>,
    /// The last list line was a bullet, so an indented line without one continues that item
    /// (a long recommendation wrapped onto a second line).
    continues: bool,
}

impl Draft {
    fn start(&mut self, section: Section) {
        self.continues = false;
        if let Some(text) = self.text_mut(section) {
            text.restart();
        }
    }

    fn text_mut(&mut self, section: Section) -> Option<&mut Text> {
        match section {
            Section::History => Some(&mut self.history),
            Section::MentalStatus => Some(&mut self.mental_status),
            Section::Assessment => Some(&mut self.assessment),
            Section::FollowUp => Some(&mut self.follow_up),
            Section::Diagnoses | Section::Medications | Section::Recommendations => None,
        }
    }

    /// Files one line of notes. `may_continue` is false for the text after a heading's colon.
    fn line(&mut self, section: Section, line: &str, may_continue: bool) {
        if let Some(text) = self.text_mut(section) {
            text.push_line(line);
            return;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            self.continues = false;
            return;
        }
        let (bulleted, item) = strip_bullet(trimmed);
        let indented = line.starts_with([' ', '\t']);
        if !bulleted && indented && may_continue && self.continues && self.append(section, item) {
            return;
        }
        self.continues = bulleted;
        match section {
            Section::Diagnoses => self.diagnoses.extend(item.split(';').filter_map(diagnosis)),
            Section::Medications => {
                if !item.is_empty() {
                    self.medications.push(medication(item));
                }
            }
            _ => {
                if !item.is_empty() {
                    self.recommendations.push(item.to_string());
                }
            }
        }
    }

    /// Appends a wrapped line to the last item of a list section; false if there is none.
    fn append(&mut self, section: Section, more: &str) -> bool {
        let target = match section {
            Section::Diagnoses => self.diagnoses.last_mut().map(|d| &mut d.description),
            Section::Recommendations => self.recommendations.last_mut(),
            Section::Medications => match self.medications.last_mut() {
                Some(m) => Some(m.instructions.get_or_insert_with(String::new)),
                None => None,
            },
            _ => None,
        };
        match target {
            Some(text) => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(more);
                true
            }
            None => false,
        }
    }

    fn finish(self) -> ReportContent {
        ReportContent {
            history: self.history.finish(),
            mental_status: self.mental_status.finish(),
            assessment: self.assessment.finish(),
            diagnoses: self.diagnoses,
            medication_plan: self.medications,
            recommendations: self.recommendations,
            follow_up: self.follow_up.finish(),
        }
    }
}

/// Strips a list marker ("- ", "* ", "• ", "1. ", "2) ") from a trimmed line. ASCII markers need
/// a space after them so "-5 kg" or "1.5 mg" are left alone.
fn strip_bullet(line: &str) -> (bool, &str) {
    let mut chars = line.chars();
    let Some(first) = chars.next() else {
        return (false, line);
    };
    let rest = chars.as_str();
    let spaced = rest.is_empty() || rest.starts_with(char::is_whitespace);
    match first {
        '•' | '·' | '◦' | '‣' | '▪' => (true, rest.trim_start()),
        '-' | '*' | '+' | '–' | '—' if spaced => (true, rest.trim_start()),
        '0'..='9' => {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let after = &line[digits..];
            match after.strip_prefix(['.', ')']) {
                Some(rest)
                    if digits <= 3
                        && (rest.is_empty() || rest.starts_with(char::is_whitespace)) =>
                {
                    (true, rest.trim_start())
                }
                _ => (false, line),
            }
        }
        _ => (false, line),
    }
}

/// One diagnosis: "F32.1 Moderate depressive episode", "J45 - Asthma",
/// "Generalised anxiety disorder (F41.1)" or plain text.
fn diagnosis(piece: &str) -> Option<Diagnosis> {
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

/// A token's comparable form: ASCII lower case without the dots and punctuation people put in
/// abbreviations ("b.d.", "q.d.s.", "daily,"). Tokens that cannot be a keyword (non-ASCII,
/// long) get an empty key, which matches nothing. Kept on the stack: a medication line is
/// parsed for every generated report.
#[derive(Clone, Copy)]
struct Key {
    buf: [u8; 16],
    len: usize,
}

impl Key {
    fn of(token: &str) -> Key {
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

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    fn is(&self, words: &[&str]) -> bool {
        let key = self.as_str();
        !key.is_empty() && words.contains(&key)
    }
}

struct Token<'a> {
    raw: &'a str,
    key: Key,
}

const UNITS: &[&str] = &[
    "mg",
    "mcg",
    "ug",
    "g",
    "gram",
    "grams",
    "microgram",
    "micrograms",
    "milligram",
    "milligrams",
    "ml",
    "mls",
    "millilitre",
    "millilitres",
    "milliliter",
    "milliliters",
    "l",
    "unit",
    "units",
    "iu",
    "tablet",
    "tablets",
    "tab",
    "tabs",
    "capsule",
    "capsules",
    "cap",
    "caps",
    "puff",
    "puffs",
    "drop",
    "drops",
    "sachet",
    "sachets",
    "patch",
    "patches",
    "spray",
    "sprays",
    "dose",
    "doses",
    "%",
    "mmol",
    "meq",
    "application",
    "applications",
    "ampoule",
    "ampoules",
    "vial",
    "vials",
    "suppository",
    "suppositories",
    "pessary",
    "nebule",
    "nebules",
    "kg",
    "mg/ml",
    "mg/kg",
];
const TIME_UNITS: &[&str] = &[
    "day", "days", "week", "weeks", "wk", "wks", "month", "months", "year", "years", "hour",
    "hours", "hrs", "life",
];
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "half",
];
/// Words that are a frequency on their own.
const FREQUENCY_WORDS: &[&str] = &[
    "od",
    "bd",
    "bid",
    "tds",
    "tid",
    "qds",
    "qid",
    "qd",
    "qhs",
    "qam",
    "qpm",
    "prn",
    "nocte",
    "mane",
    "stat",
    "daily",
    "nightly",
    "weekly",
    "fortnightly",
    "monthly",
    "hourly",
    "once-daily",
    "twice-daily",
    "once-weekly",
    "twice-weekly",
];
/// What may follow "once", "twice", "3 times", "2x": "daily", "a day", "per week".
const PERIODS: &[&str] = &[
    "day",
    "daily",
    "week",
    "weekly",
    "month",
    "monthly",
    "night",
    "nightly",
    "fortnight",
    "hour",
    "hourly",
];
const PERIOD_LINKS: &[&str] = &["a", "per", "each", "every"];
/// What may follow "every" or "each": "every 4 hours", "every other day", "each morning".
const EVERY_UNITS: &[&str] = &[
    "day", "days", "hour", "hours", "hrs", "morning", "mornings", "evening", "evenings", "night",
    "nights", "week", "weeks", "month", "months", "meal", "meals",
];
const DURATION_FILLERS: &[&str] = &[
    "a", "an", "another", "further", "the", "next", "up", "to", "at", "least", "more",
];

fn is_number(token: &Token) -> bool {
    token
        .raw
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '½' | '¼' | '¾' | '⅓' | '⅔'))
}

fn is_unit(token: &Token) -> bool {
    if token.key.is(UNITS) || matches!(token.raw, "µg" | "μg") {
        return true;
    }
    // "mg/5ml", "units/kg": a unit per something.
    let key = token.key.as_str();
    key.split_once('/')
        .is_some_and(|(unit, _)| !unit.is_empty() && UNITS.contains(&unit))
}

/// UK shorthand for a course: "2/52" weeks, "5/7" days, "6/12" months.
fn is_course_shorthand(token: &Token) -> bool {
    let key = token.key.as_str();
    key.split_once('/').is_some_and(|(n, d)| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && matches!(d, "7" | "12" | "52")
    })
}

/// A frequency starting at token `i`, as the number of tokens it spans.
fn frequency_at(t: &[Token], i: usize) -> Option<usize> {
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
fn duration_at(t: &[Token], i: usize) -> Option<(usize, usize)> {
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
fn dosage_at(t: &[Token], i: usize) -> Option<usize> {
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

fn starts_detail(t: &[Token], i: usize) -> bool {
    frequency_at(t, i).is_some() || duration_at(t, i).is_some() || dosage_at(t, i).is_some()
}

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
fn medication(item: &str) -> Medication {
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
        frequency,
        duration,
        instructions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::validate;

    fn med(line: &str) -> Medication {
        medication(line)
    }

    fn m(
        drug: &str,
        dosage: Option<&str>,
        frequency: Option<&str>,
        duration: Option<&str>,
        instructions: Option<&str>,
    ) -> Medication {
        Medication {
            drug: drug.into(),
            dosage: dosage.map(Into::into),
            frequency: frequency.map(Into::into),
            duration: duration.map(Into::into),
            instructions: instructions.map(Into::into),
        }
    }

    const FULL: &str = "\
Presenting complaint: low mood for 3 months
Poor sleep, early waking.

MSE: Kempt, good rapport.
  Mood low, affect reactive.
Impression: Moderate depressive episode, no active risk.
Dx: F32.1 Moderate depressive episode; Z91.5 - Personal history of self-harm
Rx:
- Sertraline 50 mg once daily for 4 weeks - take with food
- Zopiclone 3.75mg nocte prn
Plan:
1. CBT referral
2) Sleep hygiene advice
   given in writing
* Bloods: TFTs, FBC
Follow-up: 4 weeks, sooner if worse
";

    #[test]
    fn files_every_section() {
        let report = generate(FULL, Some("Low mood")).unwrap();
        let c = &report.content;
        assert_eq!(
            c.history.as_deref(),
            Some("low mood for 3 months\nPoor sleep, early waking.")
        );
        assert_eq!(
            c.mental_status.as_deref(),
            Some("Kempt, good rapport.\nMood low, affect reactive.")
        );
        assert_eq!(
            c.assessment.as_deref(),
            Some("Moderate depressive episode, no active risk.")
        );
        assert_eq!(
            c.diagnoses,
            vec![
                Diagnosis {
                    code: Some("F32.1".into()),
                    description: "Moderate depressive episode".into()
                },
                Diagnosis {
                    code: Some("Z91.5".into()),
                    description: "Personal history of self-harm".into()
                },
            ]
        );
        assert_eq!(
            c.medication_plan,
            vec![
                m(
                    "Sertraline",
                    Some("50 mg"),
                    Some("once daily"),
                    Some("4 weeks"),
                    Some("take with food")
                ),
                m("Zopiclone", Some("3.75mg"), Some("nocte prn"), None, None),
            ]
        );
        assert_eq!(
            c.recommendations,
            vec![
                "CBT referral",
                "Sleep hygiene advice given in writing",
                "Bloods: TFTs, FBC"
            ]
        );
        assert_eq!(c.follow_up.as_deref(), Some("4 weeks, sooner if worse"));
        assert_eq!(report.confidence, 1.0);
        assert!(validate::report_content(c.clone()).is_ok());
    }

    #[test]
    fn headings_are_case_insensitive_and_tolerant() {
        let notes = "HISTORY: a\nmental  status: b\n## Assessment: c\n**Diagnoses:** J45 Asthma\n\
                     MEDICATION:x\nrecommendations: y\nFollow up: z\nfollow-up: again\nDiagnosis:\nJ45";
        let c = generate(notes, None).unwrap().content;
        assert_eq!(c.history.as_deref(), Some("a"));
        assert_eq!(c.mental_status.as_deref(), Some("b"));
        assert_eq!(c.assessment.as_deref(), Some("c"));
        assert_eq!(c.diagnoses[0].code.as_deref(), Some("J45"));
        assert_eq!(c.diagnoses[0].description, "Asthma");
        assert_eq!(c.diagnoses[1].code.as_deref(), Some("J45"));
        assert_eq!(c.diagnoses[1].description, "J45");
        assert_eq!(c.medication_plan[0].drug, "x");
        assert_eq!(c.recommendations, vec!["y"]);
        assert_eq!(c.follow_up.as_deref(), Some("z\n\nagain"));
    }

    #[test]
    fn free_text_is_history() {
        let report = generate("  Seen with her mother.\nSays: \"I can't sleep\".  ", None).unwrap();
        assert_eq!(
            report.content.history.as_deref(),
            Some("Seen with her mother.\nSays: \"I can't sleep\".")
        );
        assert_eq!(report.confidence, 0.15);
        assert_eq!(report.content.assessment, None);
    }

    #[test]
    fn chief_complaint_is_not_made_into_an_assessment() {
        let c = generate("History: cough", Some("Cough")).unwrap().content;
        assert_eq!(c.assessment, None);
        assert_eq!(c.history.as_deref(), Some("cough"));
    }

    #[test]
    fn empty_notes_fail_with_a_reason() {
        assert_eq!(generate("", None), Err(GenerationError::NoNotes));
        assert_eq!(generate(" \n\t \r\n", None), Err(GenerationError::NoNotes));
        assert_eq!(generate("\u{0}\u{7}", None), Err(GenerationError::NoNotes));
        assert_eq!(
            generate("History:\nPlan:\n - \nDx: ;", None),
            Err(GenerationError::NoContent)
        );
        assert!(GenerationError::NoNotes.to_string().ends_with('.'));
        assert!(GenerationError::NoContent.to_string().contains("by hand"));
    }

    #[test]
    fn colons_that_are_not_headings_stay_in_the_text() {
        let c = generate("10:30 arrived\nNote: anxious\nBP: 120/80", None)
            .unwrap()
            .content;
        assert_eq!(
            c.history.as_deref(),
            Some("10:30 arrived\nNote: anxious\nBP: 120/80")
        );
    }

    #[test]
    fn parses_medication_lines() {
        let cases = [
            (
                "Sertraline 50 mg once daily for 4 weeks - take with food",
                m(
                    "Sertraline",
                    Some("50 mg"),
                    Some("once daily"),
                    Some("4 weeks"),
                    Some("take with food"),
                ),
            ),
            (
                "Metformin 500mg b.d. with meals",
                m(
                    "Metformin",
                    Some("500mg"),
                    Some("b.d."),
                    None,
                    Some("with meals"),
                ),
            ),
            (
                "Salbutamol 100 micrograms 2 puffs as needed",
                m(
                    "Salbutamol",
                    Some("100 micrograms 2 puffs"),
                    Some("as needed"),
                    None,
                    None,
                ),
            ),
            (
                "Amoxicillin 500 mg three times a day x 7 days",
                m(
                    "Amoxicillin",
                    Some("500 mg"),
                    Some("three times a day"),
                    Some("7 days"),
                    None,
                ),
            ),
            (
                "Paracetamol 1 g every 6 hours, max 4 g in 24 hours",
                m(
                    "Paracetamol",
                    Some("1 g"),
                    Some("every 6 hours"),
                    None,
                    Some("max 4 g in 24 hours"),
                ),
            ),
            (
                "Vitamin D 1000 units daily ongoing",
                m(
                    "Vitamin D",
                    Some("1000 units"),
                    Some("daily"),
                    Some("ongoing"),
                    None,
                ),
            ),
            (
                "Naproxen 500 mg BD for 2/52; stop if indigestion",
                m(
                    "Naproxen",
                    Some("500 mg"),
                    Some("BD"),
                    Some("2/52"),
                    Some("stop if indigestion"),
                ),
            ),
            (
                "Continue current medication",
                m("Continue current medication", None, None, None, None),
            ),
            (
                "Lithium 400 mg at night until review, check levels",
                m(
                    "Lithium",
                    Some("400 mg"),
                    Some("at night"),
                    Some("until review"),
                    Some("check levels"),
                ),
            ),
            (
                "Metformin 500 mg twice daily, increase to 1 g after 2 weeks",
                m(
                    "Metformin",
                    Some("500 mg"),
                    Some("twice daily"),
                    None,
                    Some("increase to 1 g after 2 weeks"),
                ),
            ),
            ("5-FU cream", m("5-FU cream", None, None, None, None)),
            (
                "Propranolol 10mg tds prn for anxiety",
                m(
                    "Propranolol",
                    Some("10mg"),
                    Some("tds prn"),
                    None,
                    Some("for anxiety"),
                ),
            ),
            (
                "Methylphenidate 18 mg in the morning q4h",
                m(
                    "Methylphenidate",
                    Some("18 mg"),
                    Some("in the morning q4h"),
                    None,
                    None,
                ),
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(med(line), expected, "{line}");
        }
    }

    #[test]
    fn diagnoses_take_codes_from_either_end() {
        let c = generate(
            "Diagnoses:\n- f41.1: GAD\nMigraine (G43.9)\nVitamin B12 deficiency\nB12 deficiency\nT2DM\nF32",
            None,
        )
        .unwrap()
        .content;
        let got: Vec<_> = c
            .diagnoses
            .iter()
            .map(|d| (d.code.as_deref(), d.description.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("F41.1"), "GAD"),
                (Some("G43.9"), "Migraine"),
                (None, "Vitamin B12 deficiency"),
                (None, "B12 deficiency"),
                (None, "T2DM"),
                (Some("F32"), "F32"),
            ]
        );
    }

    #[test]
    fn bullets_are_stripped_but_numbers_kept() {
        let c = generate(
            "Plan:\n• leaflet\n-  walk daily\n1.5 litres fluid\n10) bloods\n- \n2.",
            None,
        )
        .unwrap()
        .content;
        assert_eq!(
            c.recommendations,
            vec!["leaflet", "walk daily", "1.5 litres fluid", "bloods"]
        );
    }

    #[test]
    fn confidence_is_the_weighted_share_of_sections() {
        let r = generate("Assessment: a\nDx: F32 x\nPlan: p", None).unwrap();
        assert_eq!(r.confidence, 0.55);
        assert_eq!(
            generate("Assessment: a\nDx: F32 x\nPlan: p", None).unwrap(),
            r
        );
    }

    #[test]
    fn control_characters_never_reach_the_report() {
        let c = generate("History: a\u{1b}[31mb\r\nPlan:\rx\u{85}y", None)
            .unwrap()
            .content;
        assert_eq!(c.history.as_deref(), Some("a [31mb"));
        assert_eq!(c.recommendations, vec!["x y"]);
        assert!(validate::report_content(c).is_ok());
    }

    #[test]
    fn never_panics_on_odd_input() {
        let long_line = "x".repeat(100_000);
        let long_words = "Sertraline 50 mg for ".repeat(5_000);
        let many_lines = "Rx: 1 mg\n- \n".repeat(10_000);
        let emoji = "💊".repeat(30_000);
        let mut inputs: Vec<String> = vec![
            long_line,
            long_words.clone(),
            format!("Rx: {long_words}"),
            format!("Dx: {}", "F32.1;".repeat(20_000)),
            many_lines,
            emoji.clone(),
            format!("{emoji}:"),
            format!("Plan:{emoji}"),
            "é:".repeat(50_000),
            ":".repeat(100_000),
            "\u{0}\u{1}\u{2}\u{7f}\u{9f}\u{200b}\u{feff}".repeat(1_000),
            "Rx:\n-\n*\n•\n1.\n1)\n999999.\n; ;\n - ; - \nfor\nx\n×\nuntil\nevery\n½".into(),
            "Dx:\nF\nF3\nF32.\nF32.12345\nF32.1é\n(\n()\n(F32)\n x (F32.1)".into(),
            "Medications: 50 mg\n  continued\nRx: for 2 weeks\nx 7 days\nq\nqh\nq4h\n4x\n-hourly"
                .into(),
            "Plan:\n  - a\n    b\n\n    c\n".into(),
            "\r\r\r\n\n\r".into(),
            "ＨＩＳＴＯＲＹ： full-width\nİstanbul: x\nß: y".into(),
            "History\u{301}: combining\n\u{202e}Plan: rtl".into(),
        ];
        // Every heading, alone and followed by odd text.
        for head in [
            "History:",
            "HPI:",
            "MSE:",
            "Examination:",
            "Impression:",
            "Dx:",
            "Rx:",
            "Plan:",
            "Follow-up:",
        ] {
            inputs.push(head.into());
            inputs.push(format!("{head} - ; • 1. {}", "\u{1}".repeat(3)));
        }
        for input in &inputs {
            for cut in [0, 1, 2, 3, 7, 100] {
                // Cut at every character boundary near the start too.
                let end = input
                    .char_indices()
                    .nth(cut)
                    .map_or(input.len(), |(at, _)| at);
                for text in [input.as_str(), &input[..end]] {
                    if let Ok(r) = generate(text, Some("x")) {
                        assert!((0.0..=1.0).contains(&r.confidence));
                        let c = &r.content;
                        for text in [&c.history, &c.mental_status, &c.assessment, &c.follow_up]
                            .into_iter()
                            .flatten()
                        {
                            assert!(!text.is_empty() && text.trim() == text);
                        }
                        assert!(c.diagnoses.iter().all(|d| !d.description.is_empty()));
                        assert!(c.medication_plan.iter().all(|m| !m.drug.is_empty()));
                        assert!(c.recommendations.iter().all(|r| !r.is_empty()));
                        assert!(
                            c.medication_plan
                                .iter()
                                .flat_map(|m| [
                                    &m.dosage,
                                    &m.frequency,
                                    &m.duration,
                                    &m.instructions
                                ])
                                .flatten()
                                .all(|t| !t.is_empty())
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn handles_notes_far_above_the_size_limit() {
        let notes = FULL.repeat(500); // ~250 KB, beyond the 100,000-character limit
        let report = generate(&notes, None).unwrap();
        assert_eq!(report.content.medication_plan.len(), 1000);
        assert_eq!(report.content.diagnoses.len(), 1000);
        assert_eq!(report.confidence, 1.0);
    }
}

//! Validation of values people type, shared by the server (which enforces it) and the
//! workstation (which can tell the doctor before sending). Text is trimmed and kept as given,
//! but control characters other than newline and tab are refused in every field, and so are
//! the bidirectional embedding, override and isolate controls, which can make a screen show a
//! name other than the one stored.

use chrono::NaiveDate;

use super::admin::NewUser;
use super::envelope::FieldError;
use super::patient::{Allergies, NewPatient, PatientUpdate, Symptom, TimeSpan};
use super::report::ReportContent;

pub const MAX_NAME: usize = 200;
pub const MAX_SHORT_TEXT: usize = 500;
pub const MAX_LONG_TEXT: usize = 10_000;
pub const MAX_NOTES: usize = 100_000;
pub const MAX_SEARCH: usize = 100;
pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 128;
pub const MAX_LIST_ITEMS: usize = 100;
pub const MAX_EMAIL: usize = 254;
pub const MAX_PHONE: usize = 40;
/// A diagnosis code (ICD-10 and the like).
pub const MAX_CODE: usize = 40;
/// The number of a time span ("3 weeks").
pub const MIN_SPAN_VALUE: u32 = 1;
pub const MAX_SPAN_VALUE: u32 = 1000;

/// The bidirectional embedding and override controls (U+202A–U+202E) and isolates
/// (U+2066–U+2069): not `char::is_control`, but they reorder what a screen shows.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Common passwords of at least `MIN_PASSWORD` characters, one a line, lowercase.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Whether a new password is too easy to guess: on the list of common passwords (ignoring
/// case), one character repeated, or a run of consecutive characters (`123456789012`,
/// `abcdefghijkl`) or of the same few characters repeated (`abcabcabcabc`).
pub fn is_common_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|line| line.trim() == lower) {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    let run = |step: i64| {
        chars
            .windows(2)
            .all(|w| i64::from(u32::from(w[1])) - i64::from(u32::from(w[0])) == step)
    };
    if run(0) || run(1) || run(-1) {
        return true;
    }
    // Digits counted round the dial: "789012345678", "210987654321".
    if chars.iter().all(char::is_ascii_digit) {
        let steps: Vec<u32> = chars
            .windows(2)
            .map(|w| (u32::from(w[1]) + 10 - u32::from(w[0])) % 10)
            .collect();
        if steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == 9) {
            return true;
        }
    }
    // A short unit repeated: "abcabcabcabc", "ab12ab12ab12".
    (1..=4).any(|unit| {
        chars.len() > unit
            && chars.len().is_multiple_of(unit)
            && chars.chunks(unit).all(|c| c == &chars[..unit])
    })
}

/// Collects every rejected field of one request, so the answer names them all at once.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A required text field: trimmed, not empty, at most `max` characters, no control characters.
    pub fn required(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.fail(field, "must not be empty");
        } else {
            self.text_rules(field, value, max);
        }
        value.to_string()
    }

    /// An optional text field: trimmed; empty becomes absent.
    pub fn optional(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let value = value?.trim();
        if value.is_empty() {
            return None;
        }
        self.text_rules(field, value, max);
        Some(value.to_string())
    }

    /// Free text where an empty value is meaningful (notes): not trimmed of inner layout.
    pub fn free_text(&mut self, field: &str, value: &str, max: usize) -> String {
        self.text_rules(field, value, max);
        value.trim_end().to_string()
    }

    fn text_rules(&mut self, field: &str, value: &str, max: usize) {
        if value
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c))
        {
            self.fail(field, "must not contain control characters");
        } else if value.chars().count() > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
    }

    pub fn email(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = self.optional(field, value, MAX_EMAIL)?;
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
        if !valid {
            self.fail(field, "must be an email address like name@example.com");
        }
        Some(value)
    }

    pub fn phone(&mut self, field: &str, value: Option<&str>) -> Option<String> {
        let value = self.optional(field, value, MAX_PHONE)?;
        let digits = digits_of(&value).len();
        let allowed = value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !allowed || !(4..=15).contains(&digits) {
            self.fail(
                field,
                "must be a phone number of 4 to 15 digits (spaces, +, -, dots and brackets allowed)",
            );
        }
        Some(value)
    }

    pub fn date_of_birth(&mut self, field: &str, value: NaiveDate, today: NaiveDate) {
        if value >= today {
            self.fail(field, "must be a past date");
        } else if value < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
            self.fail(field, "must be on or after 1900-01-01");
        }
    }

    pub fn password(&mut self, field: &str, value: &str) {
        let length = value.chars().count();
        if length < MIN_PASSWORD {
            self.fail(field, format!("must be at least {MIN_PASSWORD} characters"));
        } else if length > MAX_PASSWORD {
            self.fail(field, format!("must be at most {MAX_PASSWORD} characters"));
        } else if value.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            self.fail(field, "must not contain control characters");
        } else if is_common_password(value) {
            self.fail(
                field,
                "is too easy to guess (a common password or a simple pattern); choose another, for example three or four unrelated words",
            );
        }
    }

    fn time_span(&mut self, field: &str, span: &TimeSpan) {
        if !(MIN_SPAN_VALUE..=MAX_SPAN_VALUE).contains(&span.value) {
            self.fail(
                field,
                format!("value must be between {MIN_SPAN_VALUE} and {MAX_SPAN_VALUE}"),
            );
        }
    }

    fn list_len<T>(&mut self, field: &str, items: &[T]) {
        if items.len() > MAX_LIST_ITEMS {
            self.fail(field, format!("must have at most {MAX_LIST_ITEMS} entries"));
        }
    }

    fn allergies(&mut self, value: Allergies) -> Allergies {
        use super::patient::AllergyStatus;
        self.list_len("allergies.items", &value.items);
        if value.status != AllergyStatus::Known && !value.items.is_empty() {
            self.fail(
                "allergies.items",
                "list allergies only when the status is \"known\"",
            );
        }
        if value.status == AllergyStatus::Known && value.items.is_empty() {
            self.fail(
                "allergies.items",
                "name at least one allergy when the status is \"known\"",
            );
        }
        let items = value
            .items
            .into_iter()
            .enumerate()
            .map(|(i, a)| super::patient::Allergy {
                substance: self.required(
                    &format!("allergies.items[{i}].substance"),
                    &a.substance,
                    MAX_NAME,
                ),
                reaction: self.optional(
                    &format!("allergies.items[{i}].reaction"),
                    a.reaction.as_deref(),
                    MAX_SHORT_TEXT,
                ),
                severity: self.optional(
                    &format!("allergies.items[{i}].severity"),
                    a.severity.as_deref(),
                    MAX_NAME,
                ),
            })
            .collect();
        Allergies {
            status: value.status,
            items,
        }
    }

    fn alerts(&mut self, alerts: Vec<String>) -> Vec<String> {
        self.list_len("alerts", &alerts);
        alerts
            .iter()
            .enumerate()
            .map(|(i, a)| self.required(&format!("alerts[{i}]"), a, MAX_SHORT_TEXT))
            .collect()
    }

    fn symptoms(&mut self, symptoms: Vec<Symptom>) -> Vec<Symptom> {
        self.list_len("symptoms", &symptoms);
        symptoms
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                if let Some(span) = &s.duration {
                    self.time_span(&format!("symptoms[{i}].duration"), span);
                }
                Symptom {
                    name: self.required(&format!("symptoms[{i}].name"), &s.name, MAX_NAME),
                    severity: self.optional(
                        &format!("symptoms[{i}].severity"),
                        s.severity.as_deref(),
                        MAX_NAME,
                    ),
                    frequency: self.optional(
                        &format!("symptoms[{i}].frequency"),
                        s.frequency.as_deref(),
                        MAX_NAME,
                    ),
                    duration: s.duration,
                    notes: self.optional(
                        &format!("symptoms[{i}].notes"),
                        s.notes.as_deref(),
                        MAX_LONG_TEXT,
                    ),
                }
            })
            .collect()
    }

    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// The digits of a phone number, formatting dropped: "+91 98765-43210" → "919876543210".
pub fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Checks and normalises a new patient.
pub fn new_patient(input: NewPatient, today: NaiveDate) -> Result<NewPatient, Vec<FieldError>> {
    let mut c = Checker::new();
    c.date_of_birth("date_of_birth", input.date_of_birth, today);
    if let Some(span) = &input.illness_duration {
        c.time_span("illness_duration", span);
    }
    let cleaned = NewPatient {
        full_name: c.required("full_name", &input.full_name, MAX_NAME),
        date_of_birth: input.date_of_birth,
        sex: input.sex,
        phone: c.phone("phone", input.phone.as_deref()),
        email: c.email("email", input.email.as_deref()),
        address: c.optional("address", input.address.as_deref(), MAX_SHORT_TEXT),
        referred_by: c.optional("referred_by", input.referred_by.as_deref(), MAX_NAME),
        illness_duration: input.illness_duration,
        allergies: input.allergies.map(|a| c.allergies(a)),
        alerts: c.alerts(input.alerts),
        symptoms: c.symptoms(input.symptoms),
        doctor_id: input.doctor_id,
    };
    c.finish(cleaned)
}

/// Checks and normalises a patient update. An empty update is refused: it is almost always a
/// mistake in the caller.
pub fn patient_update(
    input: PatientUpdate,
    today: NaiveDate,
) -> Result<PatientUpdate, Vec<FieldError>> {
    let mut c = Checker::new();
    if input == PatientUpdate::default() {
        c.fail("body", "name at least one field to change");
    }
    if let Some(dob) = input.date_of_birth {
        c.date_of_birth("date_of_birth", dob, today);
    }
    if let Some(Some(span)) = &input.illness_duration {
        c.time_span("illness_duration", span);
    }
    let cleaned = PatientUpdate {
        full_name: input
            .full_name
            .map(|n| c.required("full_name", &n, MAX_NAME)),
        date_of_birth: input.date_of_birth,
        sex: input.sex,
        phone: input.phone.map(|p| c.phone("phone", p.as_deref())),
        email: input.email.map(|e| c.email("email", e.as_deref())),
        address: input
            .address
            .map(|a| c.optional("address", a.as_deref(), MAX_SHORT_TEXT)),
        referred_by: input
            .referred_by
            .map(|r| c.optional("referred_by", r.as_deref(), MAX_NAME)),
        illness_duration: input.illness_duration,
        allergies: input.allergies.map(|a| c.allergies(a)),
        alerts: input.alerts.map(|a| c.alerts(a)),
        symptoms: input.symptoms.map(|s| c.symptoms(s)),
    };
    c.finish(cleaned)
}

/// Checks and normalises the sections of a report as a doctor edited them.
pub fn report_content(input: ReportContent) -> Result<ReportContent, Vec<FieldError>> {
    let mut c = Checker::new();
    c.list_len("content.diagnoses", &input.diagnoses);
    c.list_len("content.medication_plan", &input.medication_plan);
    c.list_len("content.recommendations", &input.recommendations);
    let diagnoses = input
        .diagnoses
        .into_iter()
        .enumerate()
        .map(|(i, d)| super::report::Diagnosis {
            code: c.optional(
                &format!("content.diagnoses[{i}].code"),
                d.code.as_deref(),
                MAX_CODE,
            ),
            description: c.required(
                &format!("content.diagnoses[{i}].description"),
                &d.description,
                MAX_SHORT_TEXT,
            ),
        })
        .collect();
    let medication_plan = input
        .medication_plan
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let field = |name: &str| format!("content.medication_plan[{i}].{name}");
            super::report::Medication {
                drug: c.required(&field("drug"), &m.drug, MAX_NAME),
                dosage: c.optional(&field("dosage"), m.dosage.as_deref(), MAX_NAME),
                route: c.optional(&field("route"), m.route.as_deref(), MAX_NAME),
                frequency: c.optional(&field("frequency"), m.frequency.as_deref(), MAX_NAME),
                duration: c.optional(&field("duration"), m.duration.as_deref(), MAX_NAME),
                instructions: c.optional(
                    &field("instructions"),
                    m.instructions.as_deref(),
                    MAX_SHORT_TEXT,
                ),
            }
        })
        .collect();
    let recommendations = input
        .recommendations
        .iter()
        .enumerate()
        .map(|(i, r)| c.required(&format!("content.recommendations[{i}]"), r, MAX_SHORT_TEXT))
        .collect();
    let cleaned = ReportContent {
        history: c.optional("content.history", input.history.as_deref(), MAX_LONG_TEXT),
        mental_status: c.optional(
            "content.mental_status",
            input.mental_status.as_deref(),
            MAX_LONG_TEXT,
        ),
        assessment: c.optional(
            "content.assessment",
            input.assessment.as_deref(),
            MAX_LONG_TEXT,
        ),
        diagnoses,
        medication_plan,
        recommendations,
        follow_up: c.optional(
            "content.follow_up",
            input.follow_up.as_deref(),
            MAX_LONG_TEXT,
        ),
    };
    c.finish(cleaned)
}

/// Checks a new user account (admin).
pub fn new_user(input: NewUser) -> Result<NewUser, Vec<FieldError>> {
    let mut c = Checker::new();
    let email = c.email("email", Some(&input.email));
    if email.is_none() {
        c.fail("email", "must not be empty");
    }
    c.password("password", &input.password);
    let cleaned = NewUser {
        email: email.unwrap_or_default().to_lowercase(),
        full_name: c.required("full_name", &input.full_name, MAX_NAME),
        role: input.role,
        password: input.password,
    };
    c.finish(cleaned)
}

/// Checks a password an administrator sets for an account: the rules of a new account's.
pub fn reset_password(field: &str, password: &str) -> Result<(), Vec<FieldError>> {
    let mut c = Checker::new();
    c.password(field, password);
    c.finish(())
}

/// A search term: trimmed, 1–100 characters, no control characters.
pub fn search_term(field: &str, value: &str) -> Result<String, Vec<FieldError>> {
    let mut c = Checker::new();
    let value = c.required(field, value, MAX_SEARCH);
    c.finish(value)
}

/// A patient search term (`search_term`) with something left to match once folded as search
/// folds it (`model::search::fold`): a term of accents alone would match every patient.
pub fn patient_search_term(field: &str, value: &str) -> Result<String, Vec<FieldError>> {
    let value = search_term(field, value)?;
    if crate::model::search::SearchWords::new(&value)
        .folded
        .is_empty()
    {
        return Err(vec![FieldError::new(
            field,
            "holds only accents or other marks: type a letter, digit or symbol to search for",
        )]);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn new_passwords_must_be_long_and_hard_to_guess() {
        let check = |p: &str| reset_password("password", p).is_ok();
        for weak in [
            "12345678",
            "password123",
            "Password1234",
            "123456789012",
            "987654321098",
            "abcdefghijklm",
            "zzzzzzzzzzzz",
            "abcabcabcabc",
            "ab12ab12ab12",
        ] {
            assert!(!check(weak), "{weak} was accepted");
        }
        for good in [
            "amber lantern orbit",
            "correct-horse-battery",
            "Tr0ub4dor&3xyz",
        ] {
            assert!(check(good), "{good} was refused");
        }
    }

    #[test]
    fn bidirectional_controls_are_refused_in_text() {
        for text in ["Ada\u{202E}ecalovoL", "\u{2066}Ada\u{2069}", "A\u{202A}b"] {
            let mut c = Checker::new();
            c.required("full_name", text, MAX_NAME);
            assert!(c.finish(()).is_err(), "{text:?}");
        }
        let mut c = Checker::new();
        c.required("full_name", "Zoë O'Brien-Łukasz", MAX_NAME);
        assert!(c.finish(()).is_ok());
    }

    use super::*;
    use crate::model::patient::Sex;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn patient() -> NewPatient {
        NewPatient {
            full_name: "  Anna Smith ".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1980, 2, 3).unwrap(),
            sex: Sex::Female,
            phone: Some("+91 98765 43210".into()),
            email: Some("anna@example.com".into()),
            address: Some("   ".into()),
            referred_by: None,
            illness_duration: None,
            allergies: None,
            alerts: vec![],
            symptoms: vec![],
            doctor_id: None,
        }
    }

    #[test]
    fn trims_and_drops_empty_optionals() {
        let p = new_patient(patient(), today()).unwrap();
        assert_eq!(p.full_name, "Anna Smith");
        assert_eq!(p.address, None);
    }

    #[test]
    fn names_every_bad_field() {
        let mut p = patient();
        p.full_name = "Anna\u{1b}[31m".into();
        p.phone = Some("call me".into());
        p.email = Some("nope".into());
        p.date_of_birth = today();
        let errors = new_patient(p, today()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["date_of_birth", "full_name", "phone", "email"]);
    }

    #[test]
    fn keeps_newlines_and_tabs() {
        let mut c = Checker::new();
        let text = c.free_text("notes", "History:\n\tcough", MAX_NOTES);
        assert!(c.finish(()).is_ok());
        assert_eq!(text, "History:\n\tcough");
    }

    #[test]
    fn phone_digits_ignore_formatting() {
        assert_eq!(digits_of("+91 (98765) 43-210"), "919876543210");
    }

    #[test]
    fn a_patient_search_term_needs_more_than_accents() {
        assert_eq!(patient_search_term("q", " Müller ").unwrap(), "Müller");
        assert_eq!(patient_search_term("q", "%").unwrap(), "%");
        for marks in ["\u{301}", " \u{301}\u{308} ", "¨", "´"] {
            let errors = patient_search_term("q", marks).unwrap_err();
            assert_eq!(errors[0].field, "q", "{marks:?}");
        }
        assert!(patient_search_term("q", "   ").is_err());
    }
}

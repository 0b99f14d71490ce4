//! The patient form, one for three purposes: registering a patient with every field the server
//! takes (demographics, contacts, referral, how long the illness has lasted, allergies, alerts
//! and symptoms; a receptionist also picks the doctor from the active doctors), a receptionist's change of a patient's demographics and
//! contacts, and a doctor's change of their patient's demographics, contacts and allergies
//! from the chart. The form checks what it can before sending (the rules the server enforces,
//! from `model::validate`), shows each rejected field's message under that field, and before
//! registering looks for a patient of the same name and date of birth, asking yes or no when
//! one is found. In privacy mode the patient's name, date of birth, phone, email and address
//! are masked as typed, as everywhere else on the workstation.

use chrono::NaiveDate;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};
use strum::VariantArray;
use uuid::Uuid;

use super::{Dialog, Step, View};
use crate::client::{ApiError, ErrorKind};
use crate::model::auth::Role;
use crate::model::envelope::FieldError;
use crate::model::page::SearchResults;
use crate::model::patient::{
    Allergies, Allergy, AllergyStatus, DoctorSummary, NewPatient, Patient, PatientSummary,
    PatientUpdate, Sex, Symptom, TimeSpan, TimeUnit,
};
use crate::model::search::fold;
use crate::model::time::now;
use crate::model::validate;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::patients;
use crate::tui::state::{Load, Screen, State, ToastKind};
use crate::tui::ui::common::{mask_contact, mask_name};
use crate::tui::update::{call, handle_error};

/// What the form is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// A new patient; a receptionist names the doctor.
    Register,
    /// A receptionist's change of demographics and contacts (no clinical field).
    Contacts(Uuid),
    /// A doctor's change of their patient's chart: demographics, contacts and allergies.
    Chart(Uuid),
}

/// One line of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    FullName,
    DateOfBirth,
    Sex,
    Phone,
    Email,
    Address,
    ReferredBy,
    Doctor,
    IllnessDuration,
    AllergyStatus,
    Allergies,
    Alerts,
    Symptoms,
}

/// Every slot, in the order the form shows them.
const ALL_SLOTS: [Slot; 13] = [
    Slot::FullName,
    Slot::DateOfBirth,
    Slot::Sex,
    Slot::Phone,
    Slot::Email,
    Slot::Address,
    Slot::ReferredBy,
    Slot::Doctor,
    Slot::IllnessDuration,
    Slot::AllergyStatus,
    Slot::Allergies,
    Slot::Alerts,
    Slot::Symptoms,
];

impl Slot {
    /// The wire name of the field, as the server's `details` names it.
    fn wire(self) -> &'static str {
        match self {
            Slot::FullName => "full_name",
            Slot::DateOfBirth => "date_of_birth",
            Slot::Sex => "sex",
            Slot::Phone => "phone",
            Slot::Email => "email",
            Slot::Address => "address",
            Slot::ReferredBy => "referred_by",
            Slot::Doctor => "doctor_id",
            Slot::IllnessDuration => "illness_duration",
            Slot::AllergyStatus => "allergies.status",
            Slot::Allergies => "allergies",
            Slot::Alerts => "alerts",
            Slot::Symptoms => "symptoms",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Slot::FullName => "Full name",
            Slot::DateOfBirth => "Born",
            Slot::Sex => "Sex",
            Slot::Phone => "Phone",
            Slot::Email => "Email",
            Slot::Address => "Address",
            Slot::ReferredBy => "Referred by",
            Slot::Doctor => "Doctor",
            Slot::IllnessDuration => "Ill for",
            Slot::AllergyStatus => "Allergies",
            Slot::Allergies => "Allergy list",
            Slot::Alerts => "Alerts",
            Slot::Symptoms => "Symptoms",
        }
    }

    /// A choice (Left/Right change it) rather than text.
    fn is_choice(self) -> bool {
        matches!(self, Slot::Sex | Slot::Doctor | Slot::AllergyStatus)
    }

    /// The slot a server's field name belongs to: `allergies.items[0].substance` is the
    /// allergy list's, `symptoms[1].duration.value` the symptoms', `illness_duration.unit` the
    /// illness duration's.
    pub fn of_wire(field: &str) -> Option<Slot> {
        let head = field.split(['.', '[']).next().unwrap_or(field);
        ALL_SLOTS
            .into_iter()
            .find(|slot| slot.wire() == field)
            .or_else(|| ALL_SLOTS.into_iter().find(|slot| slot.wire() == head))
    }

    /// What the patient is known by, masked in privacy mode.
    fn is_private(self) -> bool {
        matches!(
            self,
            Slot::FullName | Slot::DateOfBirth | Slot::Phone | Slot::Email | Slot::Address
        )
    }

    /// How a list slot is typed, shown under it while it has the focus.
    fn format_hint(self) -> Option<&'static str> {
        match self {
            Slot::Allergies => Some("substance / reaction / severity; …"),
            Slot::Alerts => Some("one alert; another; …"),
            Slot::Symptoms => Some("name/severity/frequency/duration/notes; …"),
            Slot::IllnessDuration => Some("e.g. 3 weeks, 2 months, 1 year"),
            _ => None,
        }
    }
}

/// Where the form is.
#[derive(Debug, Clone, PartialEq)]
pub enum FormStep {
    Editing,
    /// Looking for a patient of the same name and date of birth before registering.
    Checking,
    /// One was found: register another anyway? (No unless `y`.)
    Duplicate {
        mrn: String,
    },
    Sending,
}

/// The values a change starts from: only what differs from them is sent.
#[derive(Debug, Clone, PartialEq)]
struct Original {
    full_name: String,
    date_of_birth: NaiveDate,
    sex: Sex,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    referred_by: Option<String>,
    allergies: Allergies,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatientForm {
    pub purpose: Purpose,
    pub slots: Vec<Slot>,
    pub focus: usize,
    pub full_name: Field,
    pub date_of_birth: Field,
    pub sex: Sex,
    pub phone: Field,
    pub email: Field,
    pub address: Field,
    pub referred_by: Field,
    /// The active doctors, for a receptionist's registration.
    pub doctors: Load<Vec<DoctorSummary>>,
    pub doctor: usize,
    pub allergy_status: AllergyStatus,
    /// The allergies as typed: `substance / reaction / severity`, items separated by `;`.
    pub allergies: Field,
    /// How long the illness has lasted, as typed: `3 weeks`.
    pub illness_duration: Field,
    /// The alerts as typed, separated by `;`.
    pub alerts: Field,
    /// The symptoms as typed: `name / severity / frequency / duration / notes`, items
    /// separated by `;`.
    pub symptoms: Field,
    /// The rejected fields, each shown under its slot.
    pub errors: Vec<FieldError>,
    /// What went wrong that is no one field's.
    pub error: Option<String>,
    pub step: FormStep,
    original: Option<Box<Original>>,
}

const ALLERGY_STATUSES: [AllergyStatus; 3] = [
    AllergyStatus::NotRecorded,
    AllergyStatus::NoneKnown,
    AllergyStatus::Known,
];

fn allergy_status_name(status: AllergyStatus) -> &'static str {
    match status {
        AllergyStatus::NotRecorded => "not recorded",
        AllergyStatus::NoneKnown => "none known",
        AllergyStatus::Known => "known",
    }
}

/// The allergy list as the form shows it.
fn allergies_text(items: &[Allergy]) -> String {
    items
        .iter()
        .map(|a| {
            let mut parts = vec![a.substance.clone()];
            if a.reaction.is_some() || a.severity.is_some() {
                parts.push(a.reaction.clone().unwrap_or_default());
            }
            if let Some(severity) = &a.severity {
                parts.push(severity.clone());
            }
            parts.join(" / ")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The allergy list as typed: `substance / reaction / severity`, items separated by `;`.
fn parse_allergies(text: &str) -> Vec<Allergy> {
    let part = |p: Option<&str>| {
        p.map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
    };
    text.split(';')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let mut parts = item.split('/');
            Allergy {
                substance: parts.next().unwrap_or_default().trim().to_string(),
                reaction: part(parts.next()),
                severity: part(parts.next()),
            }
        })
        .collect()
}

/// A list typed with `;` between its items, blank items left out.
fn split_list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_string)
        .collect()
}

const TIME_UNITS: [(TimeUnit, &str); 4] = [
    (TimeUnit::Days, "day"),
    (TimeUnit::Weeks, "week"),
    (TimeUnit::Months, "month"),
    (TimeUnit::Years, "year"),
];

/// A time span as typed: a number and a unit, `3 weeks`, `1 year` (`3w` too).
fn parse_span(text: &str) -> Option<TimeSpan> {
    let text = text.trim().to_lowercase();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let value: u32 = text[..digits].parse().ok()?;
    let word = text[digits..].trim();
    let word = word.strip_suffix('s').unwrap_or(word);
    TIME_UNITS
        .into_iter()
        .find(|(_, name)| !word.is_empty() && name.starts_with(word))
        .map(|(unit, _)| TimeSpan { value, unit })
}

/// The symptoms as typed: `name / severity / frequency / duration / notes`, items separated by
/// `;`; parts after the name may be left empty or out.
fn parse_symptoms(text: &str) -> Result<Vec<Symptom>, FieldError> {
    let part = |p: Option<&str>| {
        p.map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
    };
    text.split(';')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let mut parts = item.splitn(5, '/');
            let name = parts.next().unwrap_or_default().trim().to_string();
            let severity = part(parts.next());
            let frequency = part(parts.next());
            let duration = match part(parts.next()) {
                None => None,
                Some(text) => Some(parse_span(&text).ok_or_else(|| {
                    FieldError::new(
                        "symptoms",
                        format!(
                            "the duration of {name} is not a number and days, weeks, months or \
                             years, e.g. 2 weeks"
                        ),
                    )
                })?),
            };
            Ok(Symptom {
                name,
                severity,
                frequency,
                duration,
                notes: part(parts.next()),
            })
        })
        .collect()
}

fn optional(field: &Field) -> Option<String> {
    Some(field.value.trim().to_string()).filter(|v| !v.is_empty())
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, forward: bool) -> T {
    let i = all.iter().position(|t| *t == current).unwrap_or(0);
    let len = all.len();
    all[if forward {
        (i + 1) % len
    } else {
        (i + len - 1) % len
    }]
}

impl PatientForm {
    fn blank(purpose: Purpose, slots: Vec<Slot>) -> PatientForm {
        PatientForm {
            purpose,
            slots,
            focus: 0,
            full_name: Field::default(),
            date_of_birth: Field::default(),
            sex: Sex::Female,
            phone: Field::default(),
            email: Field::default(),
            address: Field::default(),
            referred_by: Field::default(),
            doctors: Load::Idle,
            doctor: 0,
            allergy_status: AllergyStatus::NotRecorded,
            allergies: Field::default(),
            illness_duration: Field::default(),
            alerts: Field::default(),
            symptoms: Field::default(),
            errors: Vec::new(),
            error: None,
            step: FormStep::Editing,
            original: None,
        }
    }

    /// A blank registration with every field of a new patient; a receptionist's has the
    /// doctor to pick.
    pub fn register(role: Role) -> PatientForm {
        let slots = ALL_SLOTS
            .into_iter()
            .filter(|slot| *slot != Slot::Doctor || role == Role::Receptionist)
            .collect();
        PatientForm::blank(Purpose::Register, slots)
    }

    /// A receptionist's change, from the list row: the demographics and contacts it carries.
    pub fn contacts(patient: &PatientSummary) -> PatientForm {
        let slots = vec![
            Slot::FullName,
            Slot::DateOfBirth,
            Slot::Sex,
            Slot::Phone,
            Slot::Email,
        ];
        let mut form = PatientForm::blank(Purpose::Contacts(patient.id), slots);
        form.fill(&Original {
            full_name: patient.full_name.clone(),
            date_of_birth: patient.date_of_birth,
            sex: patient.sex,
            phone: patient.phone.clone(),
            email: patient.email.clone(),
            address: None,
            referred_by: None,
            allergies: Allergies::default(),
        });
        form
    }

    /// A doctor's change of the chart: demographics, contacts and allergies.
    pub fn chart(patient: &Patient) -> PatientForm {
        let slots = vec![
            Slot::FullName,
            Slot::DateOfBirth,
            Slot::Sex,
            Slot::Phone,
            Slot::Email,
            Slot::Address,
            Slot::ReferredBy,
            Slot::AllergyStatus,
            Slot::Allergies,
        ];
        let mut form = PatientForm::blank(Purpose::Chart(patient.summary.id), slots);
        form.fill(&Original {
            full_name: patient.summary.full_name.clone(),
            date_of_birth: patient.summary.date_of_birth,
            sex: patient.summary.sex,
            phone: patient.summary.phone.clone(),
            email: patient.summary.email.clone(),
            address: patient.address.clone(),
            referred_by: patient.referred_by.clone(),
            allergies: patient.allergies.clone(),
        });
        form
    }

    fn fill(&mut self, original: &Original) {
        let text = |v: &Option<String>| Field::with(v.as_deref().unwrap_or_default());
        self.full_name = Field::with(&original.full_name);
        self.date_of_birth = Field::with(&original.date_of_birth.to_string());
        self.sex = original.sex;
        self.phone = text(&original.phone);
        self.email = text(&original.email);
        self.address = text(&original.address);
        self.referred_by = text(&original.referred_by);
        self.allergy_status = original.allergies.status;
        self.allergies = Field::with(&allergies_text(&original.allergies.items));
        self.original = Some(Box::new(original.clone()));
    }

    pub fn focused(&self) -> Slot {
        self.slots[self.focus.min(self.slots.len() - 1)]
    }

    fn field_mut(&mut self, slot: Slot) -> Option<&mut Field> {
        match slot {
            Slot::FullName => Some(&mut self.full_name),
            Slot::DateOfBirth => Some(&mut self.date_of_birth),
            Slot::Phone => Some(&mut self.phone),
            Slot::Email => Some(&mut self.email),
            Slot::Address => Some(&mut self.address),
            Slot::ReferredBy => Some(&mut self.referred_by),
            Slot::Allergies => Some(&mut self.allergies),
            Slot::IllnessDuration => Some(&mut self.illness_duration),
            Slot::Alerts => Some(&mut self.alerts),
            Slot::Symptoms => Some(&mut self.symptoms),
            Slot::Sex | Slot::Doctor | Slot::AllergyStatus => None,
        }
    }

    fn field(&self, slot: Slot) -> Option<&Field> {
        match slot {
            Slot::FullName => Some(&self.full_name),
            Slot::DateOfBirth => Some(&self.date_of_birth),
            Slot::Phone => Some(&self.phone),
            Slot::Email => Some(&self.email),
            Slot::Address => Some(&self.address),
            Slot::ReferredBy => Some(&self.referred_by),
            Slot::Allergies => Some(&self.allergies),
            Slot::IllnessDuration => Some(&self.illness_duration),
            Slot::Alerts => Some(&self.alerts),
            Slot::Symptoms => Some(&self.symptoms),
            Slot::Sex | Slot::Doctor | Slot::AllergyStatus => None,
        }
    }

    /// The message shown under `slot`, if its field was rejected.
    pub fn error_of(&self, slot: Slot) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| Slot::of_wire(&e.field) == Some(slot))
            .map(|e| e.message.as_str())
    }

    /// Shows rejected fields under their slots and moves to the first of them; a field the
    /// form has no slot for is said below the form.
    pub fn reject(&mut self, errors: Vec<FieldError>) {
        if let Some(first) = self.slots.iter().position(|slot| {
            errors
                .iter()
                .any(|e| Slot::of_wire(&e.field) == Some(*slot))
        }) {
            self.focus = first;
        }
        let unplaced: Vec<String> = errors
            .iter()
            .filter(|e| Slot::of_wire(&e.field).is_none_or(|slot| !self.slots.contains(&slot)))
            .map(|e| format!("{} {}", e.field, e.message))
            .collect();
        self.error = (!unplaced.is_empty()).then(|| unplaced.join("; "));
        self.errors = errors;
        self.step = FormStep::Editing;
    }

    fn doctor_id(&self) -> Option<Uuid> {
        self.doctors.ready()?.get(self.doctor).map(|d| d.id)
    }

    /// The date as typed, or the error saying how to write it.
    fn date(&self) -> Result<NaiveDate, FieldError> {
        NaiveDate::parse_from_str(self.date_of_birth.value.trim(), "%Y-%m-%d").map_err(|_| {
            FieldError::new(
                "date_of_birth",
                "write the date as YYYY-MM-DD, e.g. 1980-02-03",
            )
        })
    }

    fn typed_allergies(&self) -> Allergies {
        Allergies {
            status: self.allergy_status,
            items: if self.allergy_status == AllergyStatus::Known {
                parse_allergies(&self.allergies.value)
            } else {
                Vec::new()
            },
        }
    }

    /// The new patient as typed and checked, or the rejected fields.
    pub fn new_patient(&self) -> Result<NewPatient, Vec<FieldError>> {
        let date = self.date();
        let mut errors = Vec::new();
        if self.slots.contains(&Slot::Doctor) && self.doctor_id().is_none() {
            errors.push(FieldError::new(
                "doctor_id",
                match self.doctors {
                    Load::Idle | Load::Loading => {
                        "the active doctors are still loading: wait a moment, then press Enter again"
                    }
                    _ => "pick the doctor the patient is registered with",
                },
            ));
        }
        let illness_duration = match optional(&self.illness_duration) {
            None => None,
            Some(text) => match parse_span(&text) {
                Some(span) => Some(span),
                None => {
                    errors.push(FieldError::new(
                        "illness_duration",
                        "write a number and days, weeks, months or years, e.g. 3 weeks",
                    ));
                    None
                }
            },
        };
        let symptoms = parse_symptoms(&self.symptoms.value).unwrap_or_else(|error| {
            errors.push(error);
            Vec::new()
        });
        if self.allergy_status != AllergyStatus::Known && optional(&self.allergies).is_some() {
            errors.push(FieldError::new(
                "allergies",
                "are listed but Allergies is not set to known: set it to known, or clear the list",
            ));
        }
        let allergies = (self.allergy_status != AllergyStatus::NotRecorded
            || optional(&self.allergies).is_some())
        .then(|| self.typed_allergies());
        let patient = NewPatient {
            full_name: self.full_name.value.clone(),
            // A placeholder while the date is wrong, so the other fields are checked too.
            date_of_birth: date.clone().unwrap_or(NaiveDate::MIN),
            sex: self.sex,
            phone: optional(&self.phone),
            email: optional(&self.email),
            address: optional(&self.address),
            referred_by: optional(&self.referred_by),
            illness_duration,
            allergies,
            alerts: split_list(&self.alerts.value),
            symptoms,
            doctor_id: self.doctor_id(),
        };
        let checked = validate::new_patient(patient, now().date_naive());
        if let Err(date_error) = date {
            errors.push(date_error);
        }
        match checked {
            Ok(patient) if errors.is_empty() => Ok(patient),
            Ok(_) => Err(errors),
            Err(found) => {
                // The placeholder date's own complaint is not the user's.
                errors.extend(
                    found
                        .into_iter()
                        .filter(|e| !(e.field == "date_of_birth" && self.date().is_err())),
                );
                Err(errors)
            }
        }
    }

    /// What changed from the values the form started with, checked; `None` when nothing did.
    pub fn update(&self) -> Result<Option<PatientUpdate>, Vec<FieldError>> {
        let Some(original) = &self.original else {
            return Ok(None);
        };
        let date = self.date().map_err(|e| vec![e])?;
        let changed = |slot: Slot, now: Option<String>, was: &Option<String>| {
            (self.slots.contains(&slot) && now != *was).then_some(now)
        };
        let full_name = self.full_name.value.trim().to_string();
        let allergies = self.typed_allergies();
        let update = PatientUpdate {
            full_name: (full_name != original.full_name).then_some(full_name),
            date_of_birth: (date != original.date_of_birth).then_some(date),
            sex: (self.sex != original.sex).then_some(self.sex),
            phone: changed(Slot::Phone, optional(&self.phone), &original.phone),
            email: changed(Slot::Email, optional(&self.email), &original.email),
            address: changed(Slot::Address, optional(&self.address), &original.address),
            referred_by: changed(
                Slot::ReferredBy,
                optional(&self.referred_by),
                &original.referred_by,
            ),
            allergies: (self.slots.contains(&Slot::AllergyStatus)
                && allergies != original.allergies)
                .then_some(allergies),
            ..PatientUpdate::default()
        };
        if update == PatientUpdate::default() {
            return Ok(None);
        }
        validate::patient_update(update, now().date_naive()).map(Some)
    }

    /// The registered patient that has this name and date of birth, among search results.
    pub fn duplicate_in<'a>(&self, found: &'a [PatientSummary]) -> Option<&'a PatientSummary> {
        let date = self.date().ok()?;
        let name = fold(
            &self
                .full_name
                .value
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
        found.iter().find(|p| {
            p.date_of_birth == date
                && fold(&p.full_name.split_whitespace().collect::<Vec<_>>().join(" ")) == name
        })
    }
}

/// Opens the registration form; a receptionist's loads the doctors to pick from.
pub(crate) fn open_register(state: &mut State) -> Vec<Effect> {
    let role = state.session.user.as_ref().map(|u| u.role);
    let mut form = PatientForm::register(role.unwrap_or(Role::Doctor));
    let mut effects = Vec::new();
    if role == Some(Role::Receptionist) {
        form.doctors = Load::Loading;
        effects.push(call(state, Call::Doctors));
    }
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    effects
}

/// Opens a change of the patient's details.
pub(crate) fn open(state: &mut State, form: PatientForm) -> Vec<Effect> {
    state.dialog = Some(Dialog::PatientForm(Box::new(form)));
    Vec::new()
}

fn form_mut(state: &mut State) -> Option<&mut PatientForm> {
    match &mut state.dialog {
        Some(Dialog::PatientForm(form)) => Some(form),
        _ => None,
    }
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::PatientForm(form) = dialog else {
        return Step::Stay(Vec::new());
    };
    let command = state.settings.keymap.command(key, Scope::StartDialog);
    match &form.step {
        FormStep::Duplicate { .. } => {
            return match (command, key.code) {
                (_, KeyCode::Char('y' | 'Y')) => Step::Stay(send_registration(state, form)),
                (Some(Command::Dismiss), _) | (_, KeyCode::Char('n' | 'N')) => {
                    form.step = FormStep::Editing;
                    Step::Stay(Vec::new())
                }
                _ => Step::Stay(Vec::new()),
            };
        }
        FormStep::Checking | FormStep::Sending => {
            return match command {
                Some(Command::Dismiss) => Step::Close(Vec::new()),
                _ => Step::Stay(Vec::new()),
            };
        }
        FormStep::Editing => {}
    }
    let slot = form.focused();
    match (command, key.code) {
        (Some(Command::Dismiss), _) => Step::Close(Vec::new()),
        (Some(Command::Submit), _) => Step::Stay(submit(state, form)),
        (Some(Command::NextChoice), _) | (_, KeyCode::Down) => {
            form.focus = (form.focus + 1) % form.slots.len();
            Step::Stay(Vec::new())
        }
        (Some(Command::PreviousChoice), _) | (_, KeyCode::Up) => {
            form.focus = (form.focus + form.slots.len() - 1) % form.slots.len();
            Step::Stay(Vec::new())
        }
        (_, KeyCode::Left | KeyCode::Right | KeyCode::Char(' ')) if slot.is_choice() => {
            let forward = key.code != KeyCode::Left;
            match slot {
                Slot::Sex => form.sex = cycle(Sex::VARIANTS, form.sex, forward),
                Slot::AllergyStatus => {
                    form.allergy_status = cycle(&ALLERGY_STATUSES, form.allergy_status, forward)
                }
                Slot::Doctor => {
                    let count = form.doctors.ready().map_or(0, Vec::len);
                    if count > 0 {
                        form.doctor = if forward {
                            (form.doctor + 1) % count
                        } else {
                            (form.doctor + count - 1) % count
                        };
                    }
                }
                _ => {}
            }
            form.errors
                .retain(|e| Slot::of_wire(&e.field) != Some(slot));
            Step::Stay(Vec::new())
        }
        _ => {
            if let Some(field) = form.field_mut(slot)
                && field.edit(key)
            {
                form.errors
                    .retain(|e| Slot::of_wire(&e.field) != Some(slot));
            }
            Step::Stay(Vec::new())
        }
    }
}

/// Enter: checks the form, then registers (after the duplicate search) or sends the change.
fn submit(state: &mut State, form: &mut PatientForm) -> Vec<Effect> {
    form.error = None;
    match form.purpose.clone() {
        Purpose::Register => match form.new_patient() {
            Ok(patient) => {
                form.errors.clear();
                form.step = FormStep::Checking;
                vec![call(state, Call::FindDuplicates(patient.full_name))]
            }
            Err(errors) => {
                form.reject(errors);
                Vec::new()
            }
        },
        Purpose::Contacts(id) | Purpose::Chart(id) => match form.update() {
            Ok(Some(update)) => {
                form.errors.clear();
                form.step = FormStep::Sending;
                vec![call(
                    state,
                    Call::UpdatePatient {
                        id,
                        update: Box::new(update),
                    },
                )]
            }
            Ok(None) => {
                form.error = Some("Nothing changed: edit a field, or Esc to close.".into());
                Vec::new()
            }
            Err(errors) => {
                form.reject(errors);
                Vec::new()
            }
        },
    }
}

fn send_registration(state: &mut State, form: &mut PatientForm) -> Vec<Effect> {
    match form.new_patient() {
        Ok(patient) => {
            form.step = FormStep::Sending;
            vec![call(state, Call::CreatePatient(Box::new(patient)))]
        }
        Err(errors) => {
            form.reject(errors);
            Vec::new()
        }
    }
}

/// The active doctors arrived: the form picks from them.
pub(crate) fn on_doctors(
    state: &mut State,
    result: Result<Vec<DoctorSummary>, ApiError>,
) -> Vec<Effect> {
    let effects = match &result {
        Err(error) => handle_error(state, error).unwrap_or_default(),
        Ok(_) => Vec::new(),
    };
    if let Some(form) = form_mut(state) {
        form.doctors = match result {
            Ok(doctors) => {
                // A "still loading" said under the doctor no longer holds.
                form.errors.retain(|e| e.field != Slot::Doctor.wire());
                Load::Ready(doctors)
            }
            Err(error) => Load::Failed(error.message),
        };
        form.doctor = 0;
    }
    effects
}

/// The duplicate search answered: a match asks first; none registers.
pub(crate) fn on_duplicates(
    state: &mut State,
    result: Result<SearchResults<PatientSummary>, ApiError>,
) -> Vec<Effect> {
    let mut dialog = state.dialog.take();
    let effects = match (&mut dialog, result) {
        (Some(Dialog::PatientForm(form)), result) if form.step == FormStep::Checking => {
            match result {
                Ok(found) => match form.duplicate_in(&found.items) {
                    Some(existing) => {
                        form.step = FormStep::Duplicate {
                            mrn: existing.mrn.clone(),
                        };
                        Vec::new()
                    }
                    None => send_registration(state, form),
                },
                Err(error) => {
                    form.step = FormStep::Editing;
                    form.error = Some(format!("Not registered: {}", error.message));
                    state.dialog = dialog.take();
                    return handle_error(state, &error).unwrap_or_default();
                }
            }
        }
        _ => Vec::new(),
    };
    if dialog.is_some() && state.dialog.is_none() {
        state.dialog = dialog;
    }
    effects
}

/// The server registered the patient or saved the change: the form closes and what shows
/// the patient shows the new values at once.
pub(crate) fn on_saved(state: &mut State, result: Result<Patient, ApiError>) -> Vec<Effect> {
    let purpose = match &state.dialog {
        Some(Dialog::PatientForm(form)) => Some(form.purpose.clone()),
        _ => None,
    };
    match result {
        Ok(patient) => {
            if purpose.is_some() {
                state.dialog = None;
            }
            match purpose {
                Some(Purpose::Register) => state.toast(
                    format!("Registered as {}.", patient.summary.mrn),
                    ToastKind::Info,
                ),
                _ => state.toast("Saved.", ToastKind::Info),
            }
            if state
                .chart
                .patient
                .ready()
                .is_some_and(|p| p.summary.id == patient.summary.id)
                && matches!(purpose, Some(Purpose::Chart(_)))
            {
                state.chart.patient = Load::Ready(patient);
            }
            if state.screen == Screen::Patients {
                return patients::reload(state);
            }
            Vec::new()
        }
        Err(error) => {
            if let Some(form) = form_mut(state) {
                match &error.kind {
                    ErrorKind::Validation { fields } if !fields.is_empty() => {
                        form.reject(fields.clone())
                    }
                    _ => {
                        form.step = FormStep::Editing;
                        form.error = Some(format!("Not saved: {}", error.message));
                    }
                }
            }
            handle_error(state, &error).unwrap_or_default()
        }
    }
}

/// What the form says in place of a choice's value.
fn choice_text(form: &PatientForm, slot: Slot) -> String {
    match slot {
        Slot::Sex => form.sex.as_str().to_string(),
        Slot::AllergyStatus => allergy_status_name(form.allergy_status).to_string(),
        Slot::Doctor => match &form.doctors {
            Load::Ready(doctors) => doctors
                .get(form.doctor)
                .map(|d| d.full_name.clone())
                .unwrap_or_else(|| "no active doctor".into()),
            Load::Failed(message) => format!("not loaded: {message}"),
            Load::Idle | Load::Loading => "loading…".into(),
        },
        _ => String::new(),
    }
}

/// A private value as privacy mode shows it: a name by its initials, a date of birth and the
/// contacts as dots; an empty field stays empty, so what is left to type still shows.
fn masked_value(slot: Slot, value: &str) -> String {
    if value.trim().is_empty() {
        return String::new();
    }
    match slot {
        Slot::FullName => mask_name(value),
        Slot::DateOfBirth => "••••-••-••".to_string(),
        _ => mask_contact(value),
    }
}

/// Columns before a value: the label's width and a space.
const LABEL_WIDTH: usize = 13;
/// How many characters of a value the form shows.
const VALUE_WIDTH: usize = 46;

pub(super) fn view(state: &State, form: &PatientForm) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::StartDialog);
    let mut lines = Vec::new();
    let mut cursor = None;
    for (i, slot) in form.slots.iter().enumerate() {
        let focused = i == form.focus && form.step == FormStep::Editing;
        let style = if focused {
            theme.selected()
        } else {
            theme.base()
        };
        let value = match form.field(*slot) {
            Some(field) if state.privacy && slot.is_private() => {
                let masked = masked_value(*slot, &field.value);
                if focused {
                    // The cursor stays at the masked text's end: where it is in the value
                    // would tell the value's length.
                    let column = LABEL_WIDTH + 1 + masked.chars().count().min(VALUE_WIDTH);
                    cursor = Some((lines.len(), column as u16));
                }
                masked
            }
            Some(field) => {
                if focused {
                    let column = LABEL_WIDTH + 1 + field.cursor.min(VALUE_WIDTH);
                    cursor = Some((lines.len(), column as u16));
                }
                field.value.chars().take(VALUE_WIDTH).collect::<String>()
            }
            None => format!("◀ {} ▶", choice_text(form, *slot)),
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{:<LABEL_WIDTH$}", slot.label())),
            Span::styled(format!(" {value:<VALUE_WIDTH$}"), style),
        ]));
        if let Some(message) = form.error_of(*slot) {
            lines.push(Line::styled(
                format!("{:LABEL_WIDTH$} ↳ {message}", ""),
                theme.error(),
            ));
        } else if let Some(hint) = slot.format_hint().filter(|_| focused) {
            lines.push(Line::styled(
                format!("{:LABEL_WIDTH$}   {hint}", ""),
                theme.muted(),
            ));
        }
    }
    lines.push(Line::raw(""));
    match &form.step {
        FormStep::Duplicate { mrn } => lines.push(Line::styled(
            format!(
                "A patient of this name and date of birth is already registered: {mrn}. \
                 Register another? y registers · n goes back"
            ),
            theme.warning(),
        )),
        FormStep::Checking => lines.push(Line::styled(
            "Looking for the same patient already registered…",
            theme.muted(),
        )),
        FormStep::Sending => lines.push(Line::styled("Saving…", theme.muted())),
        FormStep::Editing => {
            let verb = match form.purpose {
                Purpose::Register => "registers",
                _ => "saves",
            };
            lines.push(Line::styled(
                format!(
                    "{} {verb} · {} next field · ←/→ choose · {} cancels",
                    key(Command::Submit),
                    key(Command::NextChoice),
                    key(Command::Dismiss)
                ),
                theme.muted(),
            ));
        }
    }
    if let Some(error) = &form.error {
        lines.push(Line::styled(error.clone(), theme.error()));
    }
    View {
        title: match form.purpose {
            Purpose::Register => " Register a patient ",
            Purpose::Contacts(_) => " Change demographics and contacts ",
            Purpose::Chart(_) => " Change the patient's details ",
        },
        height: lines.len() as u16 + 2,
        lines,
        cursor,
    }
}

/// A paste goes into the focused text field.
pub(super) fn paste(form: &mut PatientForm, text: &str) {
    let slot = form.focused();
    if form.step == FormStep::Editing
        && let Some(field) = form.field_mut(slot)
    {
        field.insert(text);
    }
}

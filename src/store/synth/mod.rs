//! Deterministic synthetic clinical data for `--demo` and `synapse seed`.
//!
//! Pure generation, no database: the store inserts what this yields. The same [`SynthPlan`]
//! always yields the same patients, consultations and reports, byte for byte, so demos,
//! benchmarks and bug reports are reproducible. Each patient has its own random stream, seeded
//! from the plan's seed and the patient's index, so [`patient_at`] can build any patient
//! without building the ones before it (bulk seeding can split the work across threads).
//!
//! The data is meant to look like a real practice to the workstation and to the search: names
//! from many cultures with shared surnames and exact duplicates, contact details in several
//! formats and sometimes missing, allergies in all three states, consultations over the past
//! year written with the headings the report generator reads, and reports in every status.
//! Phone numbers come from ranges reserved for fiction and emails use reserved example
//! domains, so no real person can be reached through them.
//!
//! The word and condition tables live in `data/` as plain text (`tables` parses them); the code is
//! split by what it writes: the patient and their chart (`patient`, `contact`), the
//! consultations (`visits`), the notes a doctor types (`notes`) and the reports drafted from
//! them (`report`), over the seeded draws of `random`.

mod contact;
mod notes;
mod patient;
mod random;
mod report;
mod tables;
mod visits;

use chrono::{DateTime, NaiveDate, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use uuid::Uuid;

use crate::model::consultation::{ConsultationStatus, SessionType};
use crate::model::patient::{Allergies, Sex, Symptom, TimeSpan};
use crate::model::report::{ReportContent, ReportStatus};
use patient::generate_patient;
use random::mix;

/// What to generate. `now` is the reference time: everything generated lies before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthPlan {
    pub seed: u64,
    pub doctors: usize,
    pub patients_per_doctor: usize,
    pub now: DateTime<Utc>,
    /// The MRN sequence number of the first patient; patient `i` gets `first_mrn_seq + i`.
    pub first_mrn_seq: i64,
}

impl SynthPlan {
    /// How many patients the plan yields.
    pub fn total_patients(&self) -> usize {
        self.doctors.saturating_mul(self.patients_per_doctor)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthPatient {
    pub id: Uuid,
    /// Shown as `format!("MRN-{:06}", mrn_seq)`.
    pub mrn_seq: i64,
    /// Which of the plan's doctors owns the patient: `0..plan.doctors`.
    pub doctor_index: usize,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub referred_by: Option<String>,
    pub illness_duration: Option<TimeSpan>,
    pub allergies: Allergies,
    pub alerts: Vec<String>,
    pub symptoms: Vec<Symptom>,
    pub created_at: DateTime<Utc>,
    /// Oldest first. Only the newest may be in progress.
    pub consultations: Vec<SynthConsultation>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthConsultation {
    pub id: Uuid,
    /// `CS-YYYYMMDD-XXXXXXXX`: the start date and 8 upper-case hex digits, unique among all
    /// consultations of patients whose `mrn_seq` values lie within a span of 2^29.
    pub session_code: String,
    pub session_type: SessionType,
    pub status: ConsultationStatus,
    pub chief_complaint: Option<String>,
    /// May be empty: an in-progress consultation just started, or one that was cancelled or
    /// never written up.
    pub notes: String,
    pub started_at: DateTime<Utc>,
    /// `None` only while in progress; for a cancelled consultation, when it was cancelled.
    pub ended_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// Every completed consultation has one; in-progress and cancelled ones have none.
    pub report: Option<SynthReport>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthReport {
    pub id: Uuid,
    pub status: ReportStatus,
    /// Empty unless completed or signed.
    pub content: ReportContent,
    /// `Some` exactly when completed or signed.
    pub confidence: Option<f64>,
    /// `None` while pending (generation has not started).
    pub generator: Option<String>,
    /// `Some` exactly when failed: the generator's own message.
    pub failure_reason: Option<String>,
    /// 1 as generated; each edit by the doctor adds one. Signing and addenda do not.
    pub version: u32,
    /// The consultation's `ended_at`.
    pub created_at: DateTime<Utc>,
    /// The last change: generation, edit, signature or addendum.
    pub updated_at: DateTime<Utc>,
    pub signed_at: Option<DateTime<Utc>>,
    /// Only on signed reports, each after the signature, oldest first.
    pub addenda: Vec<SynthAddendum>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthAddendum {
    pub id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// Yields patients lazily, doctor by doctor, so a million patients never sit in memory at once.
pub fn patients(plan: &SynthPlan) -> impl Iterator<Item = SynthPatient> + use<> {
    let plan = *plan;
    (0..plan.total_patients()).map(move |index| patient_at(&plan, index))
}

/// The patient at global position `index` (`0..plan.total_patients()`), exactly as
/// [`patients`] yields it.
pub fn patient_at(plan: &SynthPlan, index: usize) -> SynthPatient {
    let mut rng = StdRng::seed_from_u64(mix(plan.seed, index as u64));
    let now = plan.now.timestamp_millis();
    let doctor_index = index.checked_div(plan.patients_per_doctor).unwrap_or(0);
    let mrn_seq = plan.first_mrn_seq.wrapping_add(index as i64);
    generate_patient(&mut rng, now, mrn_seq, doctor_index)
}

#[cfg(test)]
mod tests;

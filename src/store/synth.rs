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

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::model::consultation::{ConsultationStatus, SessionType};
use crate::model::patient::{Allergies, Allergy, AllergyStatus, Sex, Symptom, TimeSpan, TimeUnit};
use crate::model::report::{ReportContent, ReportStatus};
use crate::reportgen;

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

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// SplitMix64 finaliser: turns (seed, index) into well-spread, independent per-patient seeds.
fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A bijection on u32 (xor-shifts and odd multipliers are each invertible), so distinct inputs
/// give distinct, random-looking session code suffixes.
fn scramble(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7FEB_352D);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// A time-ordered (v7) UUID carrying the record's own timestamp, its random bits from `rng`.
fn uuid_at(rng: &mut StdRng, ms: i64) -> Uuid {
    let random: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(u64::try_from(ms).unwrap_or(0), &random).into_uuid()
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Picks early entries more often than late ones (roughly Zipf-like), so common names are
/// common: a practice has a handful of Smiths and the odd pair of namesakes.
fn pick_skewed<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    let u: f64 = rng.random();
    let index = (u * u.sqrt() * items.len() as f64) as usize;
    items[index.min(items.len() - 1)]
}

fn weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(item, weight) in table {
        if roll < weight {
            return item;
        }
        roll -= weight;
    }
    table[table.len() - 1].0
}

/// `count` distinct entries of `items` (fewer if there are not that many), in random order.
fn pick_distinct<'a>(rng: &mut StdRng, items: &[&'a str], count: usize) -> Vec<&'a str> {
    let mut chosen: Vec<&str> = Vec::with_capacity(count);
    let mut attempts = 0;
    while chosen.len() < count.min(items.len()) && attempts < 4 * count + 8 {
        let item = pick(rng, items);
        if !chosen.contains(&item) {
            chosen.push(item);
        }
        attempts += 1;
    }
    chosen
}

/// A time after `after` and before `now`: `min_gap`–`max_gap` later when that is still in the
/// past, else halfway to `now`. Chains of events (generated, edited, signed, addendum) so stay
/// ordered and in the past; every chain starts at least ten minutes before `now`.
fn later(rng: &mut StdRng, after: i64, min_gap: i64, max_gap: i64, now: i64) -> i64 {
    let candidate = after + rng.random_range(min_gap.max(1)..=max_gap.max(min_gap.max(1)));
    if candidate < now {
        candidate
    } else {
        after + (now - after).max(2) / 2
    }
}

fn time_of_day(rng: &mut StdRng, session_type: SessionType) -> i64 {
    if session_type == SessionType::Emergency {
        rng.random_range(0..DAY)
    } else {
        // Clinic appointments in 5-minute slots from 08:00 to 17:30, started a little late.
        8 * HOUR + rng.random_range(0..=114) * 5 * MINUTE + rng.random_range(0..5 * MINUTE)
    }
}

fn generate_patient(rng: &mut StdRng, now: i64, mrn_seq: i64, doctor_index: usize) -> SynthPatient {
    let sex = weighted(
        rng,
        &[
            (Sex::Female, 49),
            (Sex::Male, 47),
            (Sex::Other, 2),
            (Sex::Unknown, 2),
        ],
    );
    let (first, full_name) = name(rng, sex);
    let today = at(now).date_naive();
    let date_of_birth = date_of_birth(rng, today);
    let age = crate::model::time::age_on(date_of_birth, today);
    let condition = condition_for(rng, age);
    // Some consultations are about something else the patient also has.
    let other = condition_for(rng, age);

    let illness_duration = rng.random_bool(0.7).then(|| illness_duration(rng));
    let duration_words = match &illness_duration {
        Some(span) => span_words(span),
        None => (pick(rng, &["a few weeks", "several months", "some time"])).to_string(),
    };

    let chart = Chart {
        now,
        mrn_seq,
        age,
        condition,
        other,
        duration_words: &duration_words,
    };
    let consultations = consultations(rng, &chart);
    let first_start = consultations
        .first()
        .map_or(now - DAY, |c| c.started_at.timestamp_millis());
    let created = first_start - rng.random_range(10 * MINUTE..45 * DAY);

    let adult = age >= 16;
    let phone = rng.random_bool(0.88).then(|| phone(rng));
    let email = rng
        .random_bool(if adult { 0.85 } else { 0.35 })
        .then(|| email(rng, first, &full_name, date_of_birth));
    let address = rng.random_bool(0.8).then(|| address(rng));
    let referred_by = rng.random_bool(0.6).then(|| referrer(rng, age));
    let allergies = allergies(rng);
    let alert_count = weighted(rng, &[(0, 77), (1, 18), (2, 5)]);
    let alerts = pick_distinct(rng, ALERTS, alert_count)
        .into_iter()
        .map(String::from)
        .collect();
    let symptoms = symptoms(rng, condition);

    SynthPatient {
        id: uuid_at(rng, created),
        mrn_seq,
        doctor_index,
        full_name,
        date_of_birth,
        sex,
        phone,
        email,
        address,
        referred_by,
        illness_duration,
        allergies,
        alerts,
        symptoms,
        created_at: at(created),
        consultations,
    }
}

/// The first name (for the email) and the full name.
fn name(rng: &mut StdRng, sex: Sex) -> (&'static str, String) {
    let first = match sex {
        Sex::Female => pick_skewed(rng, FEMALE_NAMES),
        Sex::Male => pick_skewed(rng, MALE_NAMES),
        Sex::Other | Sex::Unknown => match rng.random_range(0..3) {
            0 => pick_skewed(rng, FEMALE_NAMES),
            1 => pick_skewed(rng, MALE_NAMES),
            _ => pick(rng, NEUTRAL_NAMES),
        },
    };
    let mut full = String::with_capacity(32);
    full.push_str(first);
    if rng.random_bool(0.1) {
        full.push(' ');
        if rng.random_bool(0.5) {
            full.push_str(initial(pick(rng, NEUTRAL_NAMES)));
            full.push('.');
        } else {
            full.push_str(pick(
                rng,
                if sex == Sex::Male {
                    MALE_NAMES
                } else {
                    FEMALE_NAMES
                },
            ));
        }
    }
    full.push(' ');
    full.push_str(pick_skewed(rng, SURNAMES));
    if rng.random_bool(0.04) {
        full.push('-');
        full.push_str(pick(rng, SURNAMES));
    }
    (first, full)
}

/// The first letter of a name, whatever its script.
fn initial(name: &str) -> &str {
    &name[..name.chars().next().map_or(0, char::len_utf8)]
}

fn days_ce(year: i32, month: u32, day: u32) -> i32 {
    NaiveDate::from_ymd_opt(year, month, day).map_or(0, |d| d.num_days_from_ce())
}

/// Born 1930–2020, and at least a little over a year before `today`, so every consultation of
/// the past year falls after birth whatever `now` the plan names.
fn date_of_birth(rng: &mut StdRng, today: NaiveDate) -> NaiveDate {
    let earliest = days_ce(1930, 1, 1);
    let latest = days_ce(2020, 12, 31)
        .min(today.num_days_from_ce() - 400)
        .max(earliest);
    NaiveDate::from_num_days_from_ce_opt(rng.random_range(earliest..=latest)).unwrap_or_default()
}

fn condition_for(rng: &mut StdRng, age: u32) -> &'static Condition {
    let eligible = |c: &&Condition| (c.min_age..=c.max_age).contains(&age);
    let total: u32 = CONDITIONS.iter().filter(eligible).map(|c| c.weight).sum();
    if total == 0 {
        return &CONDITIONS[0];
    }
    let mut roll = rng.random_range(0..total);
    for condition in CONDITIONS.iter().filter(eligible) {
        if roll < condition.weight {
            return condition;
        }
        roll -= condition.weight;
    }
    &CONDITIONS[0]
}

fn illness_duration(rng: &mut StdRng) -> TimeSpan {
    let (unit, max) = weighted(
        rng,
        &[
            ((TimeUnit::Days, 30), 10),
            ((TimeUnit::Weeks, 12), 30),
            ((TimeUnit::Months, 36), 40),
            ((TimeUnit::Years, 15), 20),
        ],
    );
    TimeSpan {
        value: rng.random_range(1..=max),
        unit,
    }
}

fn span_words(span: &TimeSpan) -> String {
    let unit = match (span.unit, span.value) {
        (TimeUnit::Days, 1) => "day",
        (TimeUnit::Days, _) => "days",
        (TimeUnit::Weeks, 1) => "week",
        (TimeUnit::Weeks, _) => "weeks",
        (TimeUnit::Months, 1) => "month",
        (TimeUnit::Months, _) => "months",
        (TimeUnit::Years, 1) => "year",
        (TimeUnit::Years, _) => "years",
    };
    format!("{} {unit}", span.value)
}

fn digits(rng: &mut StdRng, out: &mut String, count: usize) {
    for _ in 0..count {
        out.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
}

/// Numbers from ranges set aside for drama and examples, in the formats people write them.
fn phone(rng: &mut StdRng) -> String {
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

/// Lower-case ASCII for an email's local part: accents folded, other marks dropped.
fn push_ascii(out: &mut String, name: &str) {
    for c in name.chars() {
        let folded = match c {
            'a'..='z' | '0'..='9' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ą' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ễ' | 'ė' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'ı' | 'İ' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'Ö' | 'Ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'Ü' => 'u',
            'ñ' | 'ń' => 'n',
            'ç' | 'ć' => 'c',
            'ł' | 'Ł' => 'l',
            'ś' | 'ş' | 'Ş' | 'Ś' => 's',
            'ź' | 'ż' => 'z',
            'ğ' => 'g',
            'Å' | 'Á' => 'a',
            'É' => 'e',
            _ => continue,
        };
        out.push(folded);
    }
}

fn email(rng: &mut StdRng, first: &str, full_name: &str, born: NaiveDate) -> String {
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
    e.push_str(pick(rng, EMAIL_DOMAINS));
    e
}

fn address(rng: &mut StdRng) -> String {
    let number = rng.random_range(1..240);
    match rng.random_range(0..4) {
        0 => format!(
            "{number} {} {}, {}",
            pick(rng, STREETS),
            pick(rng, &["Street", "Road", "Lane", "Avenue", "Close", "Drive"]),
            pick(rng, TOWNS)
        ),
        1 => format!(
            "Flat {}{}, {number} {} Road, {}",
            rng.random_range(1..30),
            pick(rng, &["", "A", "B", "C"]),
            pick(rng, STREETS),
            pick(rng, TOWNS)
        ),
        2 => format!(
            "{number} {} Street, {} {}",
            pick(rng, STREETS),
            pick(rng, TOWNS),
            rng.random_range(10_000..99_999)
        ),
        _ => format!(
            "{} Cottage, {} Lane, {}",
            pick(rng, STREETS),
            pick(rng, STREETS),
            pick(rng, TOWNS)
        ),
    }
}

fn referrer(rng: &mut StdRng, age: u32) -> String {
    if age < 16 {
        return match rng.random_range(0..4) {
            0 => "School nurse".to_string(),
            1 => "Health visitor".to_string(),
            2 => "Parent, self-referral".to_string(),
            _ => format!(
                "Dr. {}. {} (GP)",
                initial(pick(rng, NEUTRAL_NAMES)),
                pick(rng, SURNAMES)
            ),
        };
    }
    match rng.random_range(0..8) {
        0 | 1 => "Self-referral".to_string(),
        2 | 3 => {
            let initial = initial(pick(rng, NEUTRAL_NAMES));
            format!("Dr. {initial}. {} (GP)", pick(rng, SURNAMES))
        }
        4 => "Emergency department".to_string(),
        5 => "Community mental health team".to_string(),
        6 => "Occupational health".to_string(),
        _ => format!("Dr. {}, {}", pick(rng, SURNAMES), pick(rng, SPECIALTIES)),
    }
}

fn allergies(rng: &mut StdRng) -> Allergies {
    let status = weighted(
        rng,
        &[
            (AllergyStatus::Known, 25),
            (AllergyStatus::NoneKnown, 45),
            (AllergyStatus::NotRecorded, 30),
        ],
    );
    let items = if status == AllergyStatus::Known {
        let count = weighted(rng, &[(1, 60), (2, 30), (3, 10)]);
        let mut items: Vec<Allergy> = Vec::with_capacity(count);
        while items.len() < count {
            let (substance, reactions) = pick(rng, ALLERGENS);
            if items.iter().any(|a| a.substance == substance) {
                continue;
            }
            items.push(Allergy {
                substance: substance.to_string(),
                reaction: rng
                    .random_bool(0.85)
                    .then(|| (pick(rng, reactions)).to_string()),
                severity: rng
                    .random_bool(0.7)
                    .then(|| (pick(rng, &["mild", "moderate", "severe"])).to_string()),
            });
        }
        items
    } else {
        Vec::new()
    };
    Allergies { status, items }
}

fn symptoms(rng: &mut StdRng, condition: &Condition) -> Vec<Symptom> {
    let count = weighted(rng, &[(0, 25), (1, 25), (2, 25), (3, 15), (4, 10)]);
    pick_distinct(rng, condition.symptoms, count)
        .into_iter()
        .map(|name| Symptom {
            name: name.to_string(),
            severity: rng
                .random_bool(0.8)
                .then(|| (pick(rng, &["mild", "moderate", "severe"])).to_string()),
            frequency: rng.random_bool(0.6).then(|| {
                (pick(
                    rng,
                    &[
                        "daily",
                        "most days",
                        "weekly",
                        "intermittent",
                        "constant",
                        "at night",
                    ],
                ))
                .to_string()
            }),
            duration: rng.random_bool(0.6).then(|| illness_duration(rng)),
            notes: rng
                .random_bool(0.25)
                .then(|| (pick(rng, SYMPTOM_NOTES)).to_string()),
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    InProgress,
    Cancelled,
    Report(ReportStatus),
}

/// What every consultation of one patient shares.
struct Chart<'a> {
    now: i64,
    mrn_seq: i64,
    age: u32,
    /// What the patient mostly comes about.
    condition: &'static Condition,
    /// Something else they sometimes come about.
    other: &'static Condition,
    /// How long the illness has lasted, in words: "3 months".
    duration_words: &'a str,
}

fn consultations(rng: &mut StdRng, chart: &Chart) -> Vec<SynthConsultation> {
    let now = chart.now;
    let count: usize = weighted(
        rng,
        &[
            (1, 22),
            (2, 20),
            (3, 17),
            (4, 13),
            (5, 10),
            (6, 8),
            (7, 6),
            (8, 4),
        ],
    );
    let in_progress = rng.random_bool(0.07);
    // The newest consultation happened in the last few days: its report may still be pending
    // or generating, and it is more likely to be unsigned.
    let recent = !in_progress && rng.random_bool(0.25);
    let slotted = if in_progress || recent {
        count - 1
    } else {
        count
    };

    let mut out = Vec::with_capacity(count);
    // The year before `now` is cut into one slot per older consultation, so they are spread
    // out, in order, and never overlap; they all end at least three days ago.
    let window_start = now - 365 * DAY;
    let slot = (362 * DAY) / slotted.max(1) as i64;
    for j in 0..count {
        let newest = j + 1 == count;
        let session_type = if j == 0 {
            weighted(
                rng,
                &[
                    (SessionType::NewPatient, 75),
                    (SessionType::Consultation, 15),
                    (SessionType::Emergency, 10),
                ],
            )
        } else {
            weighted(
                rng,
                &[
                    (SessionType::FollowUp, 65),
                    (SessionType::Consultation, 22),
                    (SessionType::Emergency, 8),
                    (SessionType::NewPatient, 5),
                ],
            )
        };
        let start = if newest && in_progress {
            now - rng.random_range(5 * MINUTE..=150 * MINUTE) - rng.random_range(0..MINUTE)
        } else if newest && recent {
            let day = now.div_euclid(DAY) - rng.random_range(0..=2);
            let start = day * DAY + time_of_day(rng, session_type);
            if start + 2 * HOUR + 10 * MINUTE <= now {
                start
            } else {
                now - rng.random_range(130 * MINUTE..=360 * MINUTE)
            }
        } else {
            let lo = window_start + j as i64 * slot + 3 * DAY;
            let hi = window_start + (j as i64 + 1) * slot - 3 * DAY;
            let mut day = rng.random_range(lo..hi).div_euclid(DAY);
            if session_type != SessionType::Emergency {
                // 1970-01-01 was a Thursday; clinics move weekend dates back to Friday.
                match (day + 3).rem_euclid(7) {
                    5 => day -= 1,
                    6 => day -= 2,
                    _ => {}
                }
            }
            day * DAY + time_of_day(rng, session_type)
        };

        let outcome = if newest && in_progress {
            Outcome::InProgress
        } else if rng.random_bool(0.07) {
            Outcome::Cancelled
        } else if newest && recent {
            Outcome::Report(weighted(
                rng,
                &[
                    (ReportStatus::Pending, 12),
                    (ReportStatus::Generating, 12),
                    (ReportStatus::Failed, 6),
                    (ReportStatus::Completed, 40),
                    (ReportStatus::Signed, 30),
                ],
            ))
        } else {
            Outcome::Report(weighted(
                rng,
                &[
                    (ReportStatus::Failed, 5),
                    (ReportStatus::Completed, 15),
                    (ReportStatus::Signed, 80),
                ],
            ))
        };

        let topic = if rng.random_bool(0.8) {
            chart.condition
        } else {
            chart.other
        };
        let sequence = (chart.mrn_seq as u64)
            .wrapping_mul(8)
            .wrapping_add(j as u64);
        let visit = Visit {
            chart,
            start,
            session_type,
            outcome,
            topic,
            first_visit: j == 0 || session_type == SessionType::NewPatient,
            // Truncation is fine: the scramble only has to be unique within 2^32 values.
            code: scramble(sequence as u32),
        };
        out.push(consultation(rng, &visit));
    }
    out
}

/// What is decided about a consultation before its text is written.
struct Visit<'a> {
    chart: &'a Chart<'a>,
    start: i64,
    session_type: SessionType,
    outcome: Outcome,
    topic: &'static Condition,
    first_visit: bool,
    /// The scrambled sequence number behind the session code.
    code: u32,
}

fn consultation(rng: &mut StdRng, visit: &Visit) -> SynthConsultation {
    let &Visit {
        chart,
        start,
        session_type,
        outcome,
        topic,
        code,
        ..
    } = visit;
    let now = chart.now;
    let started_at = at(start);
    let session_code = format!(
        "CS-{:04}{:02}{:02}-{code:08X}",
        started_at.year(),
        started_at.month(),
        started_at.day()
    );
    let id = uuid_at(rng, start);
    let chief_complaint = if rng.random_bool(0.08) {
        None
    } else if session_type == SessionType::FollowUp && rng.random_bool(0.4) {
        Some(topic.review.to_string())
    } else {
        Some((pick(rng, topic.complaints)).to_string())
    };
    let (status, notes, ended, cancel_reason, report) = match outcome {
        Outcome::InProgress => {
            let notes = if rng.random_bool(0.3) {
                String::new()
            } else {
                partial_notes(rng, visit)
            };
            (ConsultationStatus::InProgress, notes, None, None, None)
        }
        Outcome::Cancelled => {
            let ended = start + rng.random_range(MINUTE..=15 * MINUTE);
            let notes = if rng.random_bool(0.75) {
                String::new()
            } else {
                partial_notes(rng, visit)
            };
            let reason = (pick(rng, CANCEL_REASONS)).to_string();
            (
                ConsultationStatus::Cancelled,
                notes,
                Some(ended),
                Some(reason),
                None,
            )
        }
        Outcome::Report(status) => {
            let (lo, hi) = match session_type {
                SessionType::NewPatient => (30, 60),
                SessionType::FollowUp => (10, 30),
                SessionType::Consultation => (15, 45),
                SessionType::Emergency => (20, 120),
            };
            let ended = start + rng.random_range(lo * MINUTE..=hi * MINUTE);
            let notes = if status == ReportStatus::Failed {
                // Reports fail for the reason they would in real use: nothing to build from.
                (pick(rng, &["", "", "History:\n\nPlan:\n", "  \n"])).to_string()
            } else {
                full_notes(rng, visit)
            };
            let report = report(rng, now, ended, status, &notes, chief_complaint.as_deref());
            (
                ConsultationStatus::Completed,
                notes,
                Some(ended),
                None,
                Some(report),
            )
        }
    };

    SynthConsultation {
        id,
        session_code,
        session_type,
        status,
        chief_complaint,
        notes,
        started_at,
        ended_at: ended.map(at),
        cancel_reason,
        report,
    }
}

fn report(
    rng: &mut StdRng,
    now: i64,
    ended: i64,
    status: ReportStatus,
    notes: &str,
    chief_complaint: Option<&str>,
) -> SynthReport {
    let id = uuid_at(rng, ended);
    let mut report = SynthReport {
        id,
        status,
        content: ReportContent::default(),
        confidence: None,
        generator: Some(reportgen::GENERATOR.to_string()),
        failure_reason: None,
        version: 1,
        created_at: at(ended),
        updated_at: at(ended),
        signed_at: None,
        addenda: Vec::new(),
    };
    let generated_at = later(rng, ended, 150, 2_500, now);
    match status {
        ReportStatus::Pending => {
            report.generator = None;
            return report;
        }
        ReportStatus::Generating => {
            report.updated_at = at(later(rng, ended, 20, 800, now));
            return report;
        }
        _ => {}
    }
    // The generator decides between failed and not, as it does in real use: a report planned
    // to fail was given empty notes.
    let generated = match reportgen::generate(notes, chief_complaint) {
        Ok(generated) => generated,
        Err(error) => {
            report.status = ReportStatus::Failed;
            report.failure_reason = Some(error.to_string());
            report.updated_at = at(generated_at);
            return report;
        }
    };
    if status == ReportStatus::Failed {
        report.status = ReportStatus::Completed;
    }
    report.content = generated.content;
    report.confidence = Some(generated.confidence);
    let mut last = generated_at;

    let edits = weighted(rng, &[(0u32, 70), (1, 20), (2, 10)]);
    for _ in 0..edits {
        last = later(rng, last, 2 * MINUTE, 2 * DAY, now);
        report.version += 1;
        let added = pick(rng, EDIT_RECOMMENDATIONS);
        if !report.content.recommendations.iter().any(|r| r == added) {
            report.content.recommendations.push(added.to_string());
        }
    }
    if status == ReportStatus::Signed {
        last = later(rng, last, 5 * MINUTE, 5 * DAY, now);
        report.signed_at = Some(at(last));
        let addenda = weighted(rng, &[(0, 81), (1, 15), (2, 4)]);
        for _ in 0..addenda {
            last = later(rng, last, 30 * MINUTE, 20 * DAY, now);
            report.addenda.push(SynthAddendum {
                id: uuid_at(rng, last),
                text: (pick(rng, ADDENDA)).to_string(),
                created_at: at(last),
            });
        }
    }
    report.updated_at = at(last);
    report
}

/// Heading spellings the report generator reads, as different doctors write them.
const H_HISTORY: &[&str] = &[
    "History:",
    "History:",
    "HPI:",
    "Presenting complaint:",
    "History of presenting complaint:",
];
const H_MSE: &[&str] = &["MSE:", "Mental status:", "Mental state examination:"];
const H_EXAM: &[&str] = &["Examination:", "Examination:", "Exam:"];
const H_ASSESSMENT: &[&str] = &["Assessment:", "Impression:"];
const H_DIAGNOSES: &[&str] = &["Diagnosis:", "Diagnoses:", "Dx:"];
const H_MEDICATIONS: &[&str] = &["Medications:", "Medication:", "Rx:"];
const H_PLAN: &[&str] = &["Plan:", "Plan:", "Recommendations:"];
const H_FOLLOW_UP: &[&str] = &["Follow-up:", "Follow up:"];

/// How one doctor lays out a note: heading case, list markers, code placement, spacing.
struct Style {
    shout: bool,
    bullet: &'static str,
    numbered: bool,
    code_style: u8,
    spaced: bool,
}

impl Style {
    fn new(rng: &mut StdRng) -> Style {
        let bullet = pick(rng, &["- ", "- ", "* ", "• ", ""]);
        Style {
            shout: rng.random_bool(0.12),
            numbered: bullet.is_empty() && rng.random_bool(0.5),
            bullet,
            code_style: rng.random_range(0..4),
            spaced: rng.random_bool(0.5),
        }
    }

    fn heading(&self, rng: &mut StdRng, out: &mut String, variants: &[&str]) {
        if self.spaced && !out.is_empty() {
            out.push('\n');
        }
        let heading = pick(rng, variants);
        if self.shout {
            out.push_str(&heading.to_uppercase());
        } else {
            out.push_str(heading);
        }
    }

    fn text(&self, rng: &mut StdRng, out: &mut String, variants: &[&str], text: &str) {
        self.heading(rng, out, variants);
        out.push(if rng.random_bool(0.5) { ' ' } else { '\n' });
        out.push_str(text);
        out.push('\n');
    }

    fn list(&self, rng: &mut StdRng, out: &mut String, variants: &[&str], items: &[String]) {
        self.heading(rng, out, variants);
        if items.len() == 1 && rng.random_bool(0.4) {
            out.push(' ');
            out.push_str(&items[0]);
            out.push('\n');
            return;
        }
        out.push('\n');
        for (i, item) in items.iter().enumerate() {
            if self.numbered {
                out.push_str(&format!("{}. ", i + 1));
            } else {
                out.push_str(self.bullet);
            }
            out.push_str(item);
            out.push('\n');
        }
    }

    fn diagnosis(&self, (code, description): (&str, &str)) -> String {
        match self.code_style {
            0 => format!("{code} {description}"),
            1 => format!("{code} - {description}"),
            2 => format!("{description} ({code})"),
            _ => description.to_string(),
        }
    }
}

/// Observations in a plausible range for the patient's age.
fn vitals(rng: &mut StdRng, age: u32) -> String {
    let (systolic, diastolic, pulse) = if age < 16 {
        (88..=118, 52..=76, 68..=112)
    } else {
        (104..=168, 60..=102, 54..=108)
    };
    format!(
        "BP {}/{}, HR {} regular, SpO2 {}% on air, temperature {}.{} °C.",
        rng.random_range(systolic),
        rng.random_range(diastolic),
        rng.random_range(pulse),
        rng.random_range(94..=100),
        rng.random_range(36..=37),
        rng.random_range(0..=9)
    )
}

fn history_text(rng: &mut StdRng, visit: &Visit) -> String {
    let topic = visit.topic;
    let mut text = String::with_capacity(200);
    if visit.first_visit {
        text.push_str(&pick(rng, topic.history).replace("{d}", visit.chart.duration_words));
        text.push('\n');
        let age = visit.chart.age;
        text.push_str(pick(rng, social(age)));
        if let Some(habits) = substances(age) {
            text.push(' ');
            text.push_str(pick(rng, habits));
        }
    } else {
        text.push_str("Review of ");
        text.push_str(topic.name);
        text.push_str(". ");
        text.push_str(progress(rng, topic));
        text.push('\n');
        text.push_str(pick(rng, ADHERENCE));
    }
    text
}

fn progress(rng: &mut StdRng, topic: &Condition) -> &'static str {
    if topic.psychiatric && rng.random_bool(0.15) {
        "Mood dipped after a family bereavement last month."
    } else {
        pick(rng, PROGRESS)
    }
}

/// A first visit's impression, or at a follow-up often one about the response to treatment.
fn impression(rng: &mut StdRng, visit: &Visit) -> &'static str {
    if visit.first_visit || rng.random_bool(0.4) {
        pick(rng, visit.topic.impressions)
    } else {
        pick(rng, visit.topic.reviews)
    }
}

/// What a doctor has typed so far in a consultation that is still open, or was cancelled.
fn partial_notes(rng: &mut StdRng, visit: &Visit) -> String {
    let style = Style::new(rng);
    let mut out = String::with_capacity(300);
    let history = history_text(rng, visit);
    style.text(rng, &mut out, H_HISTORY, &history);
    if rng.random_bool(0.4) {
        let exam = pick(rng, visit.topic.exam);
        let headings = if visit.topic.psychiatric {
            H_MSE
        } else {
            H_EXAM
        };
        style.text(rng, &mut out, headings, exam);
    }
    out
}

/// The notes of a finished consultation: mostly under headings, sometimes a plain paragraph.
fn full_notes(rng: &mut StdRng, visit: &Visit) -> String {
    if rng.random_bool(0.1) {
        return free_text_notes(rng, visit);
    }
    let topic = visit.topic;
    let style = Style::new(rng);
    let mut out = String::with_capacity(900);
    let mut sections = 0;

    if rng.random_bool(0.95) {
        let history = history_text(rng, visit);
        style.text(rng, &mut out, H_HISTORY, &history);
        sections += 1;
    }
    if rng.random_bool(0.8) {
        let mut exam = String::with_capacity(200);
        if !topic.psychiatric || visit.session_type == SessionType::Emergency {
            exam.push_str(&vitals(rng, visit.chart.age));
            exam.push('\n');
        }
        exam.push_str(pick(rng, topic.exam));
        let headings = if topic.psychiatric { H_MSE } else { H_EXAM };
        style.text(rng, &mut out, headings, &exam);
        sections += 1;
    }
    if rng.random_bool(0.85) {
        let mut assessment = impression(rng, visit).to_string();
        // A formal risk statement is recorded for adolescents and adults.
        if topic.psychiatric && visit.chart.age >= 12 {
            assessment.push('\n');
            assessment.push_str(pick(rng, RISK));
            if !visit.first_visit && rng.random_bool(0.5) {
                assessment.push_str(" No self-harm since the last review.");
            }
        }
        style.text(rng, &mut out, H_ASSESSMENT, &assessment);
        sections += 1;
    }
    if rng.random_bool(0.75) {
        let count = weighted(rng, &[(1, 75), (2, 25)]);
        let mut diagnoses: Vec<String> = Vec::with_capacity(count);
        for _ in 0..count {
            let d = style.diagnosis(pick(rng, topic.diagnoses));
            if !diagnoses.contains(&d) {
                diagnoses.push(d);
            }
        }
        if diagnoses.len() > 1 && rng.random_bool(0.3) {
            style.heading(rng, &mut out, H_DIAGNOSES);
            out.push(' ');
            out.push_str(&diagnoses.join("; "));
            out.push('\n');
        } else {
            style.list(rng, &mut out, H_DIAGNOSES, &diagnoses);
        }
        sections += 1;
    }
    if rng.random_bool(0.65) {
        let count = weighted(rng, &[(1, 70), (2, 30)]);
        let meds: Vec<String> = pick_distinct(rng, topic.medications, count)
            .into_iter()
            .map(String::from)
            .collect();
        style.list(rng, &mut out, H_MEDICATIONS, &meds);
        sections += 1;
    }
    if rng.random_bool(0.85) {
        let count = rng.random_range(1..=3);
        let mut plan: Vec<String> = pick_distinct(rng, topic.plans, count)
            .into_iter()
            .map(String::from)
            .collect();
        if rng.random_bool(0.5) {
            plan.push(pick(rng, GENERAL_PLANS).to_string());
        }
        style.list(rng, &mut out, H_PLAN, &plan);
        sections += 1;
    }
    if rng.random_bool(0.75) || sections == 0 {
        let follow_up = pick(rng, FOLLOW_UPS);
        style.text(rng, &mut out, H_FOLLOW_UP, follow_up);
    }
    out
}

/// Notes written as a plain paragraph, no headings: the report generator files them as history.
fn free_text_notes(rng: &mut StdRng, visit: &Visit) -> String {
    let topic = visit.topic;
    let mut out = String::with_capacity(400);
    if visit.first_visit {
        out.push_str("Seen today. ");
        out.push_str(&pick(rng, topic.history).replace("{d}", visit.chart.duration_words));
    } else {
        out.push_str("Review of ");
        out.push_str(topic.name);
        out.push_str(". ");
        out.push_str(progress(rng, topic));
        out.push(' ');
        out.push_str(pick(rng, ADHERENCE));
    }
    out.push('\n');
    out.push_str(pick(rng, topic.exam));
    out.push('\n');
    out.push_str(impression(rng, visit));
    out.push_str(if visit.first_visit {
        " Started "
    } else {
        " Continue "
    });
    out.push_str(pick(rng, topic.medications));
    out.push_str(". Review in ");
    out.push_str(pick(
        rng,
        &["two weeks", "a month", "six weeks", "three months"],
    ));
    out.push('.');
    out
}

/// A clinical picture a patient presents with, and the phrases its notes are written from.
struct Condition {
    /// In running text: "Review of low mood."
    name: &'static str,
    /// A follow-up's chief complaint.
    review: &'static str,
    weight: u32,
    min_age: u32,
    max_age: u32,
    /// Psychiatric conditions get a mental state examination, others a physical one.
    psychiatric: bool,
    complaints: &'static [&'static str],
    /// "{d}" is replaced by how long the illness has lasted.
    history: &'static [&'static str],
    exam: &'static [&'static str],
    /// First visits.
    impressions: &'static [&'static str],
    /// Follow-ups, which may also reuse an impression.
    reviews: &'static [&'static str],
    diagnoses: &'static [(&'static str, &'static str)],
    medications: &'static [&'static str],
    plans: &'static [&'static str],
    symptoms: &'static [&'static str],
}

const CONDITIONS: &[Condition] = &[
    Condition {
        name: "low mood",
        review: "Depression review",
        weight: 16,
        min_age: 10,
        max_age: 120,
        psychiatric: true,
        complaints: &[
            "Low mood",
            "Low mood and poor sleep",
            "Feeling depressed",
            "Tearfulness and low energy",
            "Loss of interest in activities",
        ],
        history: &[
            "Low mood for {d}, with poor sleep and early morning waking.",
            "Gradual loss of interest and energy over {d}; struggling to cope day to day.",
            "Tearful most days for {d}. Appetite reduced with some weight loss.",
            "Feeling flat and hopeless for {d} since a relationship ended.",
        ],
        exam: &[
            "Casually dressed, fair self-care. Psychomotor slowing. Speech quiet and slow. Mood \"low\", affect restricted. Thoughts of worthlessness; no psychotic features. Insight good.",
            "Kempt, good rapport. Speech normal in rate and volume. Mood low, affect reactive. No perceptual abnormalities. Cognition grossly intact.",
            "Poor eye contact, tearful at times. Mood subjectively and objectively low. No evidence of psychosis. Insight partial.",
        ],
        impressions: &[
            "Moderate depressive episode with marked functional impact.",
            "Recurrent depression, current episode moderate.",
            "Mild depressive episode with prominent sleep disturbance.",
        ],
        reviews: &["Depressive symptoms improving on treatment."],
        diagnoses: &[
            ("F32.1", "Moderate depressive episode"),
            (
                "F33.1",
                "Recurrent depressive disorder, current episode moderate",
            ),
            ("F32.0", "Mild depressive episode"),
        ],
        medications: &[
            "Sertraline 50 mg once daily for 4 weeks - take with food",
            "Sertraline 100mg OD",
            "Mirtazapine 15 mg at night",
            "Fluoxetine 20 mg once daily in the morning",
            "Citalopram 20 mg daily ongoing",
        ],
        plans: &[
            "Referral for CBT",
            "Sleep hygiene advice given",
            "Encourage daily walks and a regular routine",
            "Crisis line number provided",
            "PHQ-9 at next visit",
        ],
        symptoms: &[
            "Low mood",
            "Insomnia",
            "Fatigue",
            "Poor concentration",
            "Loss of appetite",
            "Anhedonia",
        ],
    },
    Condition {
        name: "anxiety",
        review: "Anxiety review",
        weight: 14,
        min_age: 8,
        max_age: 120,
        psychiatric: true,
        complaints: &[
            "Anxiety",
            "Constant worry",
            "Feeling on edge",
            "Palpitations and worry",
        ],
        history: &[
            "Excessive worry about health and family for {d}, hard to control.",
            "Feeling tense and on edge most days for {d}; poor concentration.",
            "Worry, restlessness and muscle tension for {d}, worse since moving house.",
        ],
        exam: &[
            "Well dressed, fidgety, good eye contact. Speech slightly rapid. Mood \"anxious\", affect anxious but reactive. No psychotic features. Insight good.",
            "Appears tense, wringing hands. Speech normal. Mood worried. Thought content preoccupied with health. No perceptual disturbance.",
        ],
        impressions: &[
            "Generalised anxiety disorder, moderate severity.",
            "Anxiety symptoms with physical features; no depressive episode.",
        ],
        reviews: &["Generalised anxiety, improving with psychological therapy."],
        diagnoses: &[
            ("F41.1", "Generalised anxiety disorder"),
            ("F41.2", "Mixed anxiety and depressive disorder"),
        ],
        medications: &[
            "Escitalopram 10 mg once daily",
            "Propranolol 10 mg three times daily as needed - for physical symptoms of anxiety",
            "Sertraline 50 mg OD for 6 weeks",
        ],
        plans: &[
            "Referral to guided self-help",
            "Breathing exercises taught",
            "Reduce caffeine intake",
            "GAD-7 at next visit",
        ],
        symptoms: &[
            "Anxiety",
            "Palpitations",
            "Restlessness",
            "Insomnia",
            "Muscle tension",
        ],
    },
    Condition {
        name: "panic attacks",
        review: "Panic disorder review",
        weight: 5,
        min_age: 14,
        max_age: 90,
        psychiatric: true,
        complaints: &[
            "Panic attacks",
            "Episodes of chest tightness and fear",
            "Sudden attacks of breathlessness",
        ],
        history: &[
            "Recurrent sudden episodes of palpitations, breathlessness and fear of dying for {d}.",
            "Panic attacks two or three times a week for {d}; now avoiding buses and supermarkets.",
        ],
        exam: &[
            "Calm at interview. Speech normal. Mood \"scared it will happen again\", affect anxious. No psychotic features. Insight good.",
        ],
        impressions: &[
            "Panic disorder with developing agoraphobic avoidance.",
            "Panic disorder; cardiac causes excluded by ECG in ED.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("F41.0", "Panic disorder"),
            ("F40.01", "Agoraphobia with panic disorder"),
        ],
        medications: &[
            "Sertraline 25 mg once daily for 1 week, then 50 mg daily",
            "Citalopram 10mg OD",
        ],
        plans: &[
            "Psychoeducation about the panic cycle",
            "Referral for CBT with graded exposure",
            "Avoid benzodiazepines",
        ],
        symptoms: &[
            "Palpitations",
            "Breathlessness",
            "Chest tightness",
            "Dizziness",
            "Fear of dying",
        ],
    },
    Condition {
        name: "insomnia",
        review: "Sleep review",
        weight: 5,
        min_age: 18,
        max_age: 120,
        psychiatric: true,
        complaints: &["Can't sleep", "Insomnia", "Waking at night"],
        history: &[
            "Difficulty getting to sleep for {d}, lying awake for two hours most nights.",
            "Waking at 3am and unable to get back to sleep for {d}; tired all day.",
        ],
        exam: &[
            "Tired-looking, otherwise kempt. Speech normal. Mood \"fed up\", affect reactive. No psychotic features.",
        ],
        impressions: &[
            "Primary insomnia; no evidence of a mood disorder.",
            "Insomnia related to shift work and stress.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("F51.0", "Nonorganic insomnia"),
            ("G47.0", "Disorders of initiating and maintaining sleep"),
        ],
        medications: &[
            "Zopiclone 3.75 mg at night for 2 weeks - short course only",
            "Melatonin 2 mg modified-release 1 hour before bed for 13 weeks",
        ],
        plans: &[
            "Sleep diary for two weeks",
            "Sleep hygiene leaflet given",
            "Referral for CBT for insomnia",
        ],
        symptoms: &["Insomnia", "Fatigue", "Poor concentration", "Irritability"],
    },
    Condition {
        name: "ADHD",
        review: "ADHD medication review",
        weight: 10,
        min_age: 6,
        max_age: 17,
        psychiatric: true,
        complaints: &[
            "Poor concentration at school",
            "ADHD assessment",
            "Restless and impulsive",
        ],
        history: &[
            "School report of inattention and restlessness over {d}; parents describe similar problems at home.",
            "Difficulty sitting still and following instructions for {d}; falling behind in class.",
        ],
        exam: &[
            "Restless, fidgeting and leaving the chair during the interview. Speech normal, often interrupting. Mood euthymic. No psychotic features.",
        ],
        impressions: &["Presentation consistent with ADHD, combined type."],
        reviews: &["ADHD, good response to stimulant medication."],
        diagnoses: &[("F90.0", "Disturbance of activity and attention")],
        medications: &[
            "Methylphenidate 18 mg once daily in the morning",
            "Methylphenidate 5mg BD - with breakfast and lunch",
        ],
        plans: &[
            "Baseline height, weight, BP and pulse",
            "School liaison letter",
            "Monitor appetite and sleep",
            "Parent training programme referral",
        ],
        symptoms: &[
            "Poor concentration",
            "Restlessness",
            "Impulsivity",
            "Forgetfulness",
        ],
    },
    Condition {
        name: "ADHD",
        review: "ADHD medication review",
        weight: 3,
        min_age: 18,
        max_age: 60,
        psychiatric: true,
        complaints: &[
            "Poor concentration",
            "ADHD assessment",
            "Difficulty focusing",
        ],
        history: &[
            "Lifelong difficulty concentrating and organising, worse over {d} with new job demands.",
            "Losing track of bills and deadlines for {d}; similar problems at school as a child.",
        ],
        exam: &[
            "Restless, fidgeting throughout. Speech normal, some interrupting. Mood euthymic. No psychotic features. Insight good.",
        ],
        impressions: &["Presentation consistent with adult ADHD, combined type."],
        reviews: &["ADHD, good response to stimulant medication."],
        diagnoses: &[("F90.0", "Disturbance of activity and attention")],
        medications: &[
            "Lisdexamfetamine 30 mg OD - take in the morning",
            "Methylphenidate 18 mg once daily in the morning",
        ],
        plans: &[
            "Baseline height, weight, BP and pulse",
            "Monitor appetite and sleep",
            "Driving advice: do not drive if medication makes you drowsy",
        ],
        symptoms: &[
            "Poor concentration",
            "Restlessness",
            "Impulsivity",
            "Forgetfulness",
        ],
    },
    Condition {
        name: "bipolar disorder",
        review: "Bipolar disorder review",
        weight: 4,
        min_age: 18,
        max_age: 120,
        psychiatric: true,
        complaints: &["Mood swings", "Not sleeping, racing thoughts", "Low mood"],
        history: &[
            "Known bipolar disorder. Two weeks of reduced need for sleep and increased spending after {d} of stability.",
            "Low mood for {d} following a manic episode last year.",
        ],
        exam: &[
            "Bright clothing, overfamiliar. Pressured speech. Mood \"fantastic\", affect elated. Flight of ideas, grandiose ideas without delusions. Insight limited.",
            "Kempt, subdued. Speech slow. Mood low, affect flat. No psychotic features. Insight good.",
        ],
        impressions: &[
            "Bipolar affective disorder, current episode hypomanic.",
            "Bipolar affective disorder, current episode moderate depression.",
        ],
        reviews: &["Bipolar disorder, currently euthymic on lithium."],
        diagnoses: &[
            (
                "F31.0",
                "Bipolar affective disorder, current episode hypomanic",
            ),
            (
                "F31.3",
                "Bipolar affective disorder, current episode mild or moderate depression",
            ),
            (
                "F31.7",
                "Bipolar affective disorder, currently in remission",
            ),
        ],
        medications: &[
            "Lithium carbonate 400 mg at night - check level 12 hours after dose",
            "Quetiapine 100mg nocte",
            "Lamotrigine 25 mg once daily for 2 weeks - titrate as per schedule",
        ],
        plans: &[
            "Lithium level, U&Es and TFTs",
            "Relapse signature reviewed with patient and partner",
            "Avoid driving while unwell",
        ],
        symptoms: &[
            "Low mood",
            "Elevated mood",
            "Insomnia",
            "Racing thoughts",
            "Irritability",
        ],
    },
    Condition {
        name: "trauma symptoms",
        review: "PTSD review",
        weight: 3,
        min_age: 16,
        max_age: 120,
        psychiatric: true,
        complaints: &["Nightmares and flashbacks", "Trauma symptoms"],
        history: &[
            "Flashbacks and nightmares for {d} after a road traffic collision; avoids driving.",
            "Hypervigilance and poor sleep for {d} following an assault.",
        ],
        exam: &[
            "Guarded initially, good rapport later. Startles easily. Mood anxious. No psychotic features. Insight good.",
        ],
        impressions: &["Post-traumatic stress disorder."],
        reviews: &["PTSD symptoms improving with trauma-focused therapy."],
        diagnoses: &[("F43.1", "Post-traumatic stress disorder")],
        medications: &[
            "Sertraline 50 mg once daily",
            "Prazosin 1 mg at night - for nightmares",
        ],
        plans: &[
            "Referral for trauma-focused CBT",
            "Grounding techniques discussed",
        ],
        symptoms: &["Nightmares", "Flashbacks", "Hypervigilance", "Insomnia"],
    },
    Condition {
        name: "alcohol use",
        review: "Alcohol review",
        weight: 3,
        min_age: 18,
        max_age: 120,
        psychiatric: true,
        complaints: &["Drinking too much", "Wants help to stop drinking"],
        history: &[
            "Drinking a bottle of wine a night for {d}; morning shakes relieved by alcohol.",
            "Escalating alcohol use over {d} after redundancy; partner concerned.",
        ],
        exam: &[
            "Smells of alcohol, mild tremor. Speech normal. Mood low. No perceptual disturbance. Insight developing.",
        ],
        impressions: &[
            "Alcohol dependence syndrome; motivated to reduce.",
            "Harmful alcohol use without dependence.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("F10.2", "Alcohol dependence syndrome"),
            ("F10.1", "Harmful use of alcohol"),
        ],
        medications: &[
            "Thiamine 100 mg three times daily",
            "Acamprosate 666 mg three times daily",
        ],
        plans: &[
            "Referral to community alcohol service",
            "LFTs, GGT and FBC",
            "Do not stop drinking suddenly without support",
        ],
        symptoms: &["Tremor", "Low mood", "Insomnia", "Sweating"],
    },
    Condition {
        name: "memory problems",
        review: "Memory clinic review",
        weight: 4,
        min_age: 60,
        max_age: 120,
        psychiatric: true,
        complaints: &["Memory problems", "Forgetfulness", "Getting lost"],
        history: &[
            "Family report increasing forgetfulness over {d}; repeating questions and missing appointments.",
            "Got lost driving a familiar route; gradual memory decline over {d}.",
        ],
        exam: &[
            "Well kempt, accompanied by daughter. Speech normal. Mood euthymic. MoCA 21/30, losing points on recall and orientation.",
        ],
        impressions: &[
            "Mild cognitive impairment; possible early Alzheimer's disease.",
            "Mild Alzheimer's dementia.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("F06.7", "Mild cognitive disorder"),
            ("F00.1", "Dementia in Alzheimer's disease with late onset"),
        ],
        medications: &["Donepezil 5 mg at night for 4 weeks - then increase to 10 mg if tolerated"],
        plans: &[
            "Dementia screen bloods and CT head",
            "Driving advice given: inform the licensing authority",
            "Carer support information",
        ],
        symptoms: &["Forgetfulness", "Disorientation", "Word-finding difficulty"],
    },
    Condition {
        name: "asthma",
        review: "Asthma review",
        weight: 7,
        min_age: 3,
        max_age: 120,
        psychiatric: false,
        complaints: &["Wheeze", "Shortness of breath", "Night-time cough"],
        history: &[
            "Wheeze and night-time cough for {d}, using reliever inhaler most days.",
            "Breathless on exertion for {d}, worse in cold weather and around cats.",
        ],
        exam: &[
            "Chest: scattered expiratory wheeze bilaterally, no crackles. Peak flow 320 L/min (75% of predicted).",
            "Chest clear today. Peak flow 410 L/min. Inhaler technique checked and corrected.",
        ],
        impressions: &[
            "Asthma, partly controlled.",
            "Mild exacerbation of asthma; no features of severe attack.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[("J45.9", "Asthma, unspecified"), ("J45", "Asthma")],
        medications: &[
            "Salbutamol 100 micrograms 2 puffs as needed",
            "Beclometasone 100 mcg 2 puffs twice daily",
            "Prednisolone 40 mg once daily for 5 days",
        ],
        plans: &[
            "Personal asthma action plan given",
            "Spacer supplied",
            "Annual flu vaccine",
        ],
        symptoms: &["Wheeze", "Cough", "Shortness of breath", "Chest tightness"],
    },
    Condition {
        name: "high blood pressure",
        review: "Blood pressure review",
        weight: 7,
        min_age: 30,
        max_age: 120,
        psychiatric: false,
        complaints: &["High blood pressure", "Headaches", "BP check"],
        history: &[
            "Raised readings at home for {d}, average 152/94. Occasional headaches.",
            "Found to have high blood pressure at a pharmacy check {d} ago; no symptoms.",
        ],
        exam: &["Heart sounds normal, no murmurs. No peripheral oedema. Fundi not examined."],
        impressions: &["Stage 1 hypertension."],
        reviews: &["Hypertension, well controlled on treatment."],
        diagnoses: &[("I10", "Essential (primary) hypertension")],
        medications: &[
            "Amlodipine 5 mg once daily",
            "Ramipril 2.5mg OD - check U&Es in 2 weeks",
        ],
        plans: &[
            "Home BP monitoring",
            "Reduce salt intake",
            "Urine ACR and lipids",
        ],
        symptoms: &["Headache", "Dizziness"],
    },
    Condition {
        name: "type 2 diabetes",
        review: "Diabetes review",
        weight: 7,
        min_age: 25,
        max_age: 120,
        psychiatric: false,
        complaints: &[
            "Thirst and passing urine often",
            "Diabetes check",
            "Tiredness",
        ],
        history: &[
            "Thirst, polyuria and tiredness for {d}. HbA1c 62 mmol/mol.",
            "Known type 2 diabetes for {d}; recent HbA1c 71 mmol/mol.",
        ],
        exam: &[
            "Feet: pulses present, sensation intact to monofilament. BMI 31.",
            "No diabetic foot changes. Injection sites normal.",
        ],
        impressions: &[
            "Type 2 diabetes, suboptimal control.",
            "Type 2 diabetes, newly diagnosed.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("E11.9", "Type 2 diabetes mellitus without complications"),
            ("E11.65", "Type 2 diabetes mellitus with hyperglycaemia"),
        ],
        medications: &[
            "Metformin 500 mg twice daily with meals",
            "Metformin 500mg BD for 2 weeks, then 1 g BD",
            "Gliclazide 40 mg once daily with breakfast",
        ],
        plans: &[
            "Structured education course referral",
            "Retinal screening",
            "HbA1c in 3 months",
        ],
        symptoms: &["Thirst", "Frequent urination", "Fatigue", "Blurred vision"],
    },
    Condition {
        name: "migraine",
        review: "Headache review",
        weight: 5,
        min_age: 8,
        max_age: 90,
        psychiatric: false,
        complaints: &["Headaches", "Migraine", "Severe headache with vomiting"],
        history: &[
            "One-sided throbbing headaches with nausea and light sensitivity, four a month for {d}.",
            "Headaches with visual aura for {d}; missing days at work or school.",
        ],
        exam: &["Neurological examination normal. Fundi normal."],
        impressions: &[
            "Migraine with aura.",
            "Migraine without aura; no red flags.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("G43.1", "Migraine with aura"),
            ("G43.0", "Migraine without aura"),
        ],
        medications: &[
            "Sumatriptan 50 mg as needed - max 2 doses in 24 hours",
            "Propranolol 40 mg twice daily",
            "Naproxen 500 mg when required",
        ],
        plans: &[
            "Headache diary",
            "Avoid medication overuse",
            "Review triggers: sleep, caffeine",
        ],
        symptoms: &["Headache", "Nausea", "Light sensitivity", "Visual aura"],
    },
    Condition {
        name: "back pain",
        review: "Back pain review",
        weight: 6,
        min_age: 18,
        max_age: 120,
        psychiatric: false,
        complaints: &["Low back pain", "Back pain radiating down the leg"],
        history: &[
            "Low back pain for {d} after lifting at work; no bladder or bowel symptoms.",
            "Back pain radiating to the left leg for {d}, worse sitting.",
        ],
        exam: &[
            "Reduced lumbar flexion. Straight leg raise negative. Power, reflexes and sensation normal.",
            "Paraspinal tenderness L4-L5. Straight leg raise positive at 50 degrees on the left.",
        ],
        impressions: &[
            "Mechanical low back pain, no red flags.",
            "Lumbar radiculopathy, likely disc related.",
        ],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("M54.5", "Low back pain"),
            ("M54.4", "Lumbago with sciatica"),
        ],
        medications: &[
            "Naproxen 500 mg twice daily for 5 days - take with food",
            "Paracetamol 1 g four times daily when required",
            "Codeine 30 mg qds prn for 1 week",
        ],
        plans: &[
            "Physiotherapy referral",
            "Stay active; avoid bed rest",
            "Return urgently if numbness or bladder problems",
        ],
        symptoms: &["Back pain", "Leg pain", "Stiffness", "Numbness"],
    },
    Condition {
        name: "reflux",
        review: "Reflux review",
        weight: 4,
        min_age: 18,
        max_age: 120,
        psychiatric: false,
        complaints: &["Heartburn", "Indigestion"],
        history: &[
            "Burning chest pain after meals and at night for {d}; no weight loss or difficulty swallowing.",
        ],
        exam: &["Abdomen soft, mild epigastric tenderness. No masses."],
        impressions: &["Gastro-oesophageal reflux disease without alarm features."],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[(
            "K21.9",
            "Gastro-oesophageal reflux disease without oesophagitis",
        )],
        medications: &[
            "Omeprazole 20 mg once daily before breakfast for 8 weeks",
            "Gaviscon 10 ml after meals and at bedtime",
        ],
        plans: &[
            "Weight loss and smaller evening meals",
            "H. pylori stool test",
        ],
        symptoms: &["Heartburn", "Nausea", "Bloating"],
    },
    Condition {
        name: "thyroid function",
        review: "Thyroid review",
        weight: 4,
        min_age: 18,
        max_age: 120,
        psychiatric: false,
        complaints: &["Tiredness and weight gain", "Thyroid results"],
        history: &["Tired, cold and gaining weight for {d}. TSH 9.8 mU/L, free T4 low."],
        exam: &["Dry skin, no goitre. Pulse 58 regular."],
        impressions: &["Primary hypothyroidism."],
        reviews: &["Hypothyroidism, TSH now within range."],
        diagnoses: &[("E03.9", "Hypothyroidism, unspecified")],
        medications: &[
            "Levothyroxine 50 micrograms once daily in the morning - on an empty stomach",
            "Levothyroxine 75 mcg OD",
        ],
        plans: &["TSH in 6-8 weeks", "Take separately from iron and calcium"],
        symptoms: &["Fatigue", "Weight gain", "Cold intolerance", "Constipation"],
    },
    Condition {
        name: "urinary symptoms",
        review: "Urinary symptoms review",
        weight: 4,
        min_age: 0,
        max_age: 120,
        psychiatric: false,
        complaints: &["Burning when passing urine", "Urine infection"],
        history: &["Dysuria and frequency for {d}; no fever or loin pain."],
        exam: &[
            "Abdomen soft, mild suprapubic tenderness. No renal angle tenderness. Urine dip: leucocytes and nitrites positive.",
        ],
        impressions: &["Lower urinary tract infection.", "Uncomplicated cystitis."],
        reviews: GENERIC_REVIEWS,
        diagnoses: &[
            ("N39.0", "Urinary tract infection, site not specified"),
            ("N30.0", "Acute cystitis"),
        ],
        medications: &[
            "Nitrofurantoin 100 mg modified-release twice daily for 3 days",
            "Trimethoprim 200 mg BD x 7 days",
        ],
        plans: &[
            "Urine culture sent",
            "Plenty of fluids",
            "Return if fever or loin pain",
        ],
        symptoms: &["Dysuria", "Frequency", "Urgency"],
    },
];

const GENERIC_REVIEWS: &[&str] = &[
    "Stable; continue the current plan.",
    "Partial response so far; continue and review.",
];

const FEMALE_NAMES: &[&str] = &[
    "Anna",
    "Mary",
    "Priya",
    "Sarah",
    "Maria",
    "Fatima",
    "Emma",
    "Mei",
    "Olivia",
    "Aisha",
    "Linh",
    "Sophia",
    "Ana",
    "Grace",
    "Ngozi",
    "Emily",
    "Ananya",
    "Yuki",
    "Hannah",
    "Zainab",
    "Chloé",
    "Elena",
    "Ji-woo",
    "Lucía",
    "Olga",
    "Siobhán",
    "Zoë",
    "Amara",
    "Leila",
    "Ingrid",
    "Giulia",
    "Noor",
    "Agnieszka",
    "Sofía",
    "Aoife",
    "Kavya",
    "Thao",
    "Chiamaka",
    "Isabela",
    "Katarzyna",
    "Natalia",
    "Astrid",
    "Freya",
    "Francesca",
    "Eleni",
    "Ayşe",
    "Elif",
    "Hana",
    "Jessica",
    "Lakshmi",
    "Deepika",
    "Renée",
    "Anaïs",
    "Maja",
    "Amira",
    "Tiana",
    "Aroha",
    "Sakura",
    "Seo-yeon",
    "Gabriela",
    "Folake",
    "Margaret",
    "Dorothy",
    "Joan",
];

const MALE_NAMES: &[&str] = &[
    "James",
    "John",
    "Mohammed",
    "David",
    "Wei",
    "Rahul",
    "Michael",
    "José",
    "Daniel",
    "Ahmed",
    "Minh",
    "Thomas",
    "Arjun",
    "Oliver",
    "Chinedu",
    "Omar",
    "Jun",
    "Carlos",
    "Ali",
    "Hiroshi",
    "Min-jun",
    "Luis",
    "Łukasz",
    "Piotr",
    "Dmitri",
    "Søren",
    "Lars",
    "Björn",
    "Jürgen",
    "Giovanni",
    "Marco",
    "Nikos",
    "Mehmet",
    "Emre",
    "Liam",
    "Noah",
    "Jack",
    "Samuel",
    "Patrick",
    "Seán",
    "Kwame",
    "Kofi",
    "Emeka",
    "Oluwaseun",
    "Tunde",
    "Vikram",
    "Kenji",
    "Seung-ho",
    "Duc",
    "Mateo",
    "João",
    "Pedro",
    "Tomasz",
    "Ivan",
    "Klaus",
    "Tane",
    "Rangi",
    "George",
    "William",
    "Arthur",
    "Yusuf",
    "Ibrahim",
    "Karan",
];

const NEUTRAL_NAMES: &[&str] = &[
    "Alex", "Sam", "Jordan", "Taylor", "Riley", "Casey", "Morgan", "Jamie", "Robin", "Kai", "Noa",
    "Ari", "Charlie", "Avery", "Quinn", "Rowan",
];

const SURNAMES: &[&str] = &[
    "Smith",
    "Patel",
    "Nguyen",
    "García",
    "Kim",
    "Jones",
    "Khan",
    "Singh",
    "Williams",
    "Wang",
    "Brown",
    "Li",
    "Zhang",
    "Chen",
    "Ahmed",
    "Sharma",
    "Murphy",
    "Okafor",
    "Taylor",
    "Tran",
    "Lee",
    "Hussain",
    "Müller",
    "Rodríguez",
    "Kowalski",
    "O'Brien",
    "Silva",
    "Ali",
    "Park",
    "Tanaka",
    "Liu",
    "Gupta",
    "Reddy",
    "Iyer",
    "Das",
    "Rahman",
    "Hassan",
    "Al-Farsi",
    "Haddad",
    "Cohen",
    "Levi",
    "Kelly",
    "O'Connor",
    "MacDonald",
    "Campbell",
    "Wilson",
    "Johnson",
    "Martin",
    "Thompson",
    "White",
    "Walker",
    "Hall",
    "Robinson",
    "Clarke",
    "Lewis",
    "Adeyemi",
    "Okonkwo",
    "Mensah",
    "Osei",
    "Mwangi",
    "Pham",
    "Le",
    "Choi",
    "Suzuki",
    "Sato",
    "Yamamoto",
    "Fernández",
    "López",
    "Martínez",
    "Gómez",
    "Santos",
    "Costa",
    "Oliveira",
    "Nowak",
    "Wiśniewski",
    "Ivanov",
    "Petrov",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Jensen",
    "Nielsen",
    "Andersson",
    "Johansson",
    "Larsen",
    "Rossi",
    "Russo",
    "Bianchi",
    "Papadopoulos",
    "Yılmaz",
    "Öztürk",
    "Kaya",
    "Demir",
    "van der Berg",
    "de la Cruz",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Ngata",
    "Abdullahi",
    "Mohamud",
    "Warsame",
    "Baptiste",
    "Joseph",
    "Fraser",
    "Evans",
];

const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "post.example.org",
];

const STREETS: &[&str] = &[
    "Elm", "Oak", "Station", "Church", "Mill", "Park", "Victoria", "Gandhi", "Rose", "Hill",
    "Market", "Willow", "Queen", "King", "Orchard", "Lake", "Harbour", "Cedar", "Maple", "Meadow",
];

const TOWNS: &[&str] = &[
    "Springfield",
    "Riverton",
    "Oakridge",
    "Lakeside",
    "Westbury",
    "Northfield",
    "Kingsbridge",
    "Ashford",
    "Millbrook",
    "Fairview",
    "Eastleigh",
    "Greenhill",
    "Port Ellis",
    "Bayview",
];

const SPECIALTIES: &[&str] = &[
    "cardiology",
    "neurology",
    "obstetrics",
    "paediatrics",
    "respiratory",
];

const ALLERGENS: &[(&str, &[&str])] = &[
    (
        "Penicillin",
        &["Rash", "Hives", "Anaphylaxis", "Swollen lips"],
    ),
    ("Amoxicillin", &["Rash", "Hives"]),
    ("Sulfonamides", &["Rash", "Fever and rash"]),
    ("Aspirin", &["Wheeze", "Stomach bleeding"]),
    ("Ibuprofen", &["Wheeze", "Indigestion", "Hives"]),
    ("Codeine", &["Vomiting", "Itching"]),
    ("Morphine", &["Itching", "Nausea"]),
    ("Latex", &["Contact dermatitis", "Hives"]),
    ("Peanuts", &["Anaphylaxis", "Throat swelling"]),
    ("Shellfish", &["Hives", "Vomiting"]),
    ("Eggs", &["Eczema flare", "Vomiting"]),
    ("Iodinated contrast", &["Hives", "Breathlessness"]),
    ("Bee stings", &["Anaphylaxis", "Local swelling"]),
    ("Lamotrigine", &["Severe rash"]),
    ("Carbamazepine", &["Rash", "Low sodium"]),
    ("Elastoplast", &["Skin irritation"]),
];

const ALERTS: &[&str] = &[
    "Fall risk",
    "Interpreter needed",
    "Hard of hearing",
    "Safeguarding concern",
    "Wheelchair user",
    "Anticoagulated",
    "Visual impairment",
    "Prefers a female clinician",
    "Self-harm history: see risk plan",
    "Pacemaker fitted",
];

const SYMPTOM_NOTES: &[&str] = &[
    "Worse in the mornings",
    "Worse at night",
    "Better with rest",
    "Started after a viral illness",
    "Partner noticed first",
    "Affecting work",
];

/// Home, school or work, as fits the patient's age.
fn social(age: u32) -> &'static [&'static str] {
    match age {
        0..=11 => &[
            "Lives with parents and a younger sibling.",
            "Lives with mother and grandmother; attends primary school.",
            "Attends primary school; enjoys football and drawing.",
        ],
        12..=17 => &[
            "In Year 10 at secondary school.",
            "Lives with parents; studying for exams.",
            "Lives with father and stepmother; attends college part-time.",
        ],
        18..=64 => &[
            "Lives with partner and two children.",
            "Works as a teacher, currently on sick leave.",
            "University student in second year.",
            "Works night shifts in a warehouse.",
            "Unemployed, recently moved to the area.",
            "Full-time carer for a parent.",
            "Lives alone, works from home as an accountant.",
        ],
        _ => &[
            "Retired engineer, widowed last year.",
            "Lives alone; daughter visits weekly.",
            "Lives with spouse; independent with daily activities.",
            "Retired teacher, active in the local choir.",
        ],
    }
}

/// Smoking, alcohol and drugs: not asked about young children.
fn substances(age: u32) -> Option<&'static [&'static str]> {
    match age {
        0..=13 => None,
        14..=17 => Some(&[
            "No alcohol or drug use.",
            "Has tried alcohol at parties; no regular use.",
            "Vapes occasionally.",
        ]),
        _ => Some(&[
            "Non-smoker, drinks rarely.",
            "Drinks about 14 units of alcohol a week.",
            "Smokes 10 cigarettes a day.",
            "No alcohol or drug use.",
            "Occasional cannabis use, stopped in the last month.",
        ]),
    }
}

const PROGRESS: &[&str] = &[
    "Reports some improvement since the last review.",
    "Little change since last seen.",
    "Feels much better overall.",
    "Mixed progress, with better days and worse days.",
    "Symptoms somewhat worse over the past fortnight.",
    "Good response to treatment so far.",
];

const ADHERENCE: &[&str] = &[
    "Taking medication as prescribed.",
    "Missed several doses while away.",
    "Stopped medication two weeks ago because of nausea.",
    "No side effects reported.",
    "Mild nausea in the first week, now settled.",
];

const RISK: &[&str] = &[
    "Risk: no current suicidal ideation; low risk to self and others.",
    "Risk: passive death wishes without plan or intent; protective factors are family and faith. Safety plan agreed.",
    "Risk: low.",
];

const GENERAL_PLANS: &[&str] = &[
    "Safety-netting advice given",
    "Patient information leaflet provided",
    "Letter to GP",
    "Bloods: FBC, U&Es, LFTs, TFTs",
    "Return sooner if symptoms worsen",
];

const FOLLOW_UPS: &[&str] = &[
    "2 weeks",
    "4 weeks",
    "Review in 4 weeks, sooner if needed",
    "6 weeks with blood results",
    "3 months",
    "Telephone review in 1 week",
    "Discharge to GP; no routine follow-up",
    "Next available clinic in 8 weeks",
];

const CANCEL_REASONS: &[&str] = &[
    "Patient did not attend",
    "Patient cancelled on the day",
    "Rescheduled at the patient's request",
    "Booked in error",
    "Clinician unavailable; rebooked",
    "Patient unwell, asked to rebook",
    "Patient admitted to hospital elsewhere",
];

const EDIT_RECOMMENDATIONS: &[&str] = &[
    "Discussed the diagnosis and treatment options with the patient",
    "Copy of this report sent to the GP",
    "Written information about the condition given",
    "Return sooner if things get worse",
];

const ADDENDA: &[&str] = &[
    "Patient phoned: side effects settled, continuing treatment.",
    "Blood results reviewed: within normal limits.",
    "Letter sent to GP with a copy of this report.",
    "Discussed at the team meeting; plan unchanged.",
    "Pharmacy queried the dose; confirmed as prescribed.",
    "Patient asked for a copy of this report; sent by post.",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::patient::NewPatient;
    use crate::model::validate;
    use std::collections::HashSet;

    fn plan(seed: u64, doctors: usize, per_doctor: usize) -> SynthPlan {
        SynthPlan {
            seed,
            doctors,
            patients_per_doctor: per_doctor,
            now: DateTime::parse_from_rfc3339("2026-11-26T06:33:23.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            first_mrn_seq: 1000,
        }
    }

    fn uuid_ms(id: Uuid) -> i64 {
        let (secs, nanos) = id.get_timestamp().unwrap().to_unix();
        secs as i64 * 1000 + i64::from(nanos / 1_000_000)
    }

    #[test]
    fn the_same_plan_gives_the_same_data() {
        let a: Vec<_> = patients(&plan(7, 2, 50)).collect();
        let b: Vec<_> = patients(&plan(7, 2, 50)).collect();
        assert_eq!(a, b);
        let c: Vec<_> = patients(&plan(8, 2, 50)).collect();
        assert_ne!(a[0], c[0]);
        assert_eq!(patient_at(&plan(7, 2, 50), 73), a[73]);
    }

    #[test]
    fn counts_indexes_and_mrns() {
        let p = plan(1, 3, 40);
        let all: Vec<_> = patients(&p).collect();
        assert_eq!(all.len(), 120);
        assert_eq!(p.total_patients(), 120);
        for (i, patient) in all.iter().enumerate() {
            assert_eq!(patient.doctor_index, i / 40);
            assert_eq!(patient.mrn_seq, 1000 + i as i64);
            assert!((1..=8).contains(&patient.consultations.len()));
        }
        assert_eq!(patients(&plan(1, 0, 10)).count(), 0);
        assert_eq!(patients(&plan(1, 4, 0)).count(), 0);
    }

    #[test]
    fn invariants_hold() {
        // 20_261_126 is the demo data set's seed.
        for seed in [1, 2, 42, 20_261_126] {
            check_invariants(&plan(seed, 2, 200));
        }
    }

    fn check_invariants(p: &SynthPlan) {
        let now = p.now.timestamp_millis();
        let today = p.now.date_naive();
        let mut report_statuses = HashSet::new();
        let mut consultation_statuses = HashSet::new();
        let mut session_types = HashSet::new();
        let mut allergy_states = HashSet::new();
        let mut sexes = HashSet::new();
        let mut codes = HashSet::new();
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        let mut duplicate_names = 0;
        let mut surnames = std::collections::HashMap::new();
        let (mut with_alerts, mut without_phone, mut without_email, mut free_text) = (0, 0, 0, 0);
        let mut addenda = 0;

        for patient in patients(p) {
            assert!(ids.insert(patient.id));
            if !names.insert(patient.full_name.clone()) {
                duplicate_names += 1;
            }
            let surname = patient.full_name.rsplit(' ').next().unwrap_or_default();
            *surnames.entry(surname.to_string()).or_insert(0) += 1;
            sexes.insert(patient.sex.as_str());
            allergy_states.insert(format!("{:?}", patient.allergies.status));
            with_alerts += usize::from(!patient.alerts.is_empty());
            without_phone += usize::from(patient.phone.is_none());
            without_email += usize::from(patient.email.is_none());
            assert!(patient.symptoms.len() <= 4);
            assert!(patient.date_of_birth.year() >= 1930 && patient.date_of_birth.year() <= 2020);
            if patient.allergies.status == AllergyStatus::Known {
                assert!((1..=3).contains(&patient.allergies.items.len()));
            }

            // The API's own validation accepts every patient as the store would receive it.
            let new = NewPatient {
                full_name: patient.full_name.clone(),
                date_of_birth: patient.date_of_birth,
                sex: patient.sex,
                phone: patient.phone.clone(),
                email: patient.email.clone(),
                address: patient.address.clone(),
                referred_by: patient.referred_by.clone(),
                illness_duration: patient.illness_duration.clone(),
                allergies: Some(patient.allergies.clone()),
                alerts: patient.alerts.clone(),
                symptoms: patient.symptoms.clone(),
                doctor_id: None,
            };
            assert_eq!(validate::new_patient(new.clone(), today), Ok(new));

            // No "" where an absent value is meant.
            for text in [
                &patient.phone,
                &patient.email,
                &patient.address,
                &patient.referred_by,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!text.trim().is_empty() && text.trim() == text);
            }

            assert_eq!(uuid_ms(patient.id), patient.created_at.timestamp_millis());
            assert_eq!(patient.id.get_version_num(), 7);
            let mut previous_end = patient.created_at;
            let count = patient.consultations.len();
            for (j, c) in patient.consultations.iter().enumerate() {
                consultation_statuses.insert(c.status.as_str());
                session_types.insert(c.session_type.as_str());
                assert!(ids.insert(c.id));
                assert!(codes.insert(c.session_code.clone()), "{}", c.session_code);
                assert_eq!(uuid_ms(c.id), c.started_at.timestamp_millis());
                assert_eq!(c.started_at.timestamp_subsec_nanos() % 1_000_000, 0);
                assert!(c.started_at > previous_end, "consultations overlap");
                assert!(c.started_at.timestamp_millis() < now);
                let code = &c.session_code;
                assert_eq!(code.len(), 20);
                assert_eq!(&code[..3], "CS-");
                assert_eq!(&code[3..11], c.started_at.format("%Y%m%d").to_string());
                assert!(
                    code[12..]
                        .chars()
                        .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_lowercase())
                );
                assert!(c.chief_complaint.as_deref() != Some(""));
                assert!(c.cancel_reason.as_deref() != Some(""));
                free_text += usize::from(
                    c.notes.starts_with("Seen today.") || c.notes.starts_with("Review of "),
                );
                match c.status {
                    ConsultationStatus::InProgress => {
                        assert_eq!(j + 1, count, "only the newest may be in progress");
                        assert!(c.ended_at.is_none() && c.report.is_none());
                        assert!(c.cancel_reason.is_none());
                    }
                    ConsultationStatus::Cancelled => {
                        assert!(c.cancel_reason.is_some() && c.report.is_none());
                    }
                    ConsultationStatus::Completed => {
                        assert!(c.cancel_reason.is_none());
                        let report = c.report.as_ref().expect("completed has a report");
                        assert_eq!(Some(report.created_at), c.ended_at);
                        check_report(report, now);
                        report_statuses.insert(report.status.as_str());
                        addenda += report.addenda.len();
                    }
                }
                if let Some(ended) = c.ended_at {
                    assert!(ended > c.started_at && ended.timestamp_millis() < now);
                    previous_end = ended;
                }
            }
        }
        assert_eq!(report_statuses.len(), 5, "{report_statuses:?}");
        assert_eq!(consultation_statuses.len(), 3);
        assert_eq!(session_types.len(), 4);
        assert_eq!(allergy_states.len(), 3);
        assert_eq!(sexes.len(), 4);
        // Search has namesakes and shared surnames to tell apart.
        assert!(duplicate_names >= 1, "no two patients share a name");
        assert!(surnames.values().any(|&n| n >= 10), "no common surname");
        assert!(with_alerts > 20 && without_phone > 10 && without_email > 10);
        assert!(free_text > 5 && addenda > 5);
    }

    fn check_report(r: &SynthReport, now: i64) {
        assert_eq!(uuid_ms(r.id), r.created_at.timestamp_millis());
        assert!(r.updated_at >= r.created_at && r.updated_at.timestamp_millis() < now);
        assert!(r.version >= 1);
        let filled = r.content != ReportContent::default();
        match r.status {
            ReportStatus::Pending | ReportStatus::Generating => {
                assert!(!filled && r.confidence.is_none() && r.failure_reason.is_none());
                assert_eq!(r.generator.is_some(), r.status == ReportStatus::Generating);
            }
            ReportStatus::Failed => {
                assert!(!filled && r.confidence.is_none());
                let reason = r.failure_reason.as_deref().unwrap();
                assert!(reason.ends_with('.') && reason.len() > 20);
            }
            ReportStatus::Completed | ReportStatus::Signed => {
                assert!(filled && r.failure_reason.is_none());
                assert_eq!(r.generator.as_deref(), Some(reportgen::GENERATOR));
                let confidence = r.confidence.unwrap();
                assert!(confidence > 0.0 && confidence <= 1.0);
                assert!(validate::report_content(r.content.clone()).is_ok());
            }
        }
        match r.signed_at {
            Some(signed) => {
                assert_eq!(r.status, ReportStatus::Signed);
                assert!(signed > r.created_at && r.updated_at >= signed);
                let mut previous = signed;
                for a in &r.addenda {
                    assert!(a.created_at > previous && a.created_at.timestamp_millis() < now);
                    assert_eq!(uuid_ms(a.id), a.created_at.timestamp_millis());
                    previous = a.created_at;
                }
                assert_eq!(r.updated_at, previous);
            }
            None => {
                assert_ne!(r.status, ReportStatus::Signed);
                assert!(r.addenda.is_empty());
            }
        }
    }

    #[test]
    fn notes_use_the_headings_the_generator_reads() {
        let mut sections = [0usize; 7];
        let mut reports = 0;
        for patient in patients(&plan(3, 1, 300)) {
            for c in &patient.consultations {
                let Some(r) = &c.report else { continue };
                if !matches!(r.status, ReportStatus::Completed | ReportStatus::Signed) {
                    continue;
                }
                reports += 1;
                let content = &r.content;
                for (i, filled) in [
                    content.history.is_some(),
                    content.mental_status.is_some(),
                    content.assessment.is_some(),
                    !content.diagnoses.is_empty(),
                    !content.medication_plan.is_empty(),
                    !content.recommendations.is_empty(),
                    content.follow_up.is_some(),
                ]
                .into_iter()
                .enumerate()
                {
                    sections[i] += usize::from(filled);
                }
            }
        }
        // Every section is filled in a good share of reports, none in all of them.
        for filled in sections {
            assert!(
                filled * 3 > reports && filled < reports,
                "{sections:?} of {reports}"
            );
        }
    }

    #[test]
    fn tables_are_usable() {
        for c in CONDITIONS {
            assert!(!c.complaints.is_empty() && !c.history.is_empty() && !c.exam.is_empty());
            assert!(!c.impressions.is_empty() && !c.diagnoses.is_empty());
            assert!(!c.medications.is_empty() && !c.plans.is_empty() && !c.symptoms.is_empty());
            assert!(c.min_age <= c.max_age);
            for (code, _) in c.diagnoses {
                let parsed = reportgen::generate(&format!("Dx: {code} x"), None).unwrap();
                assert_eq!(parsed.content.diagnoses[0].code.as_deref(), Some(*code));
            }
        }
        // Every age from birth to 120 has a condition.
        for age in 0..=120 {
            assert!(
                CONDITIONS
                    .iter()
                    .any(|c| (c.min_age..=c.max_age).contains(&age))
            );
        }
        assert!(FEMALE_NAMES.len() + MALE_NAMES.len() >= 120 && SURNAMES.len() >= 100);
    }
}

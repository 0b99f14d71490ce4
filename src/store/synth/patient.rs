//! One patient: who they are (name, birth, sex), how to reach them, who referred them, their
//! allergies, alerts and symptoms, and the condition their consultations are about.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;

use super::SynthPatient;
use super::contact::{address, email, phone};
use super::random::{
    DAY, MINUTE, at, pick, pick_distinct, pick_ref, pick_skewed, uuid_at, weighted,
};
use super::tables::{Condition, tables};
use super::visits::{Chart, consultations};
use crate::model::patient::{Allergies, Allergy, AllergyStatus, Sex, Symptom, TimeSpan, TimeUnit};

/// A patient with their chart and every consultation, drawn from `rng` in a fixed order: the
/// order of the draws is part of the data a seed gives.
pub(super) fn generate_patient(
    rng: &mut StdRng,
    now: i64,
    mrn_seq: i64,
    doctor_index: usize,
) -> SynthPatient {
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
    let alerts = pick_distinct(rng, &tables().alerts, alert_count)
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
        Sex::Female => pick_skewed(rng, &tables().female_names),
        Sex::Male => pick_skewed(rng, &tables().male_names),
        Sex::Other | Sex::Unknown => match rng.random_range(0..3) {
            0 => pick_skewed(rng, &tables().female_names),
            1 => pick_skewed(rng, &tables().male_names),
            _ => pick(rng, &tables().neutral_names),
        },
    };
    let mut full = String::with_capacity(32);
    full.push_str(first);
    if rng.random_bool(0.1) {
        full.push(' ');
        if rng.random_bool(0.5) {
            full.push_str(initial(pick(rng, &tables().neutral_names)));
            full.push('.');
        } else {
            full.push_str(pick(
                rng,
                if sex == Sex::Male {
                    &tables().male_names
                } else {
                    &tables().female_names
                },
            ));
        }
    }
    full.push(' ');
    full.push_str(pick_skewed(rng, &tables().surnames));
    if rng.random_bool(0.04) {
        full.push('-');
        full.push_str(pick(rng, &tables().surnames));
    }
    (first, full)
}

/// The first letter of a name, whatever its script.
pub(super) fn initial(name: &str) -> &str {
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
    let eligible = |c: &&Condition| c.ages.contains(&age);
    let total: u32 = tables()
        .conditions
        .iter()
        .filter(eligible)
        .map(|c| c.weight)
        .sum();
    if total == 0 {
        return &tables().conditions[0];
    }
    let mut roll = rng.random_range(0..total);
    for condition in tables().conditions.iter().filter(eligible) {
        if roll < condition.weight {
            return condition;
        }
        roll -= condition.weight;
    }
    &tables().conditions[0]
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

fn referrer(rng: &mut StdRng, age: u32) -> String {
    if age < 16 {
        return match rng.random_range(0..4) {
            0 => "School nurse".to_string(),
            1 => "Health visitor".to_string(),
            2 => "Parent, self-referral".to_string(),
            _ => format!(
                "Dr. {}. {} (GP)",
                initial(pick(rng, &tables().neutral_names)),
                pick(rng, &tables().surnames)
            ),
        };
    }
    match rng.random_range(0..8) {
        0 | 1 => "Self-referral".to_string(),
        2 | 3 => {
            let initial = initial(pick(rng, &tables().neutral_names));
            format!("Dr. {initial}. {} (GP)", pick(rng, &tables().surnames))
        }
        4 => "Emergency department".to_string(),
        5 => "Community mental health team".to_string(),
        6 => "Occupational health".to_string(),
        _ => format!(
            "Dr. {}, {}",
            pick(rng, &tables().surnames),
            pick(rng, &tables().specialties)
        ),
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
            let &(substance, ref reactions) = pick_ref(rng, &tables().allergens);
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
    pick_distinct(rng, &condition.symptoms, count)
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
                .then(|| (pick(rng, &tables().symptom_notes)).to_string()),
        })
        .collect()
}

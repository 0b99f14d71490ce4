//! The notes a doctor types in a consultation: under the headings the report generator reads,
//! laid out as different doctors lay them out, or now and then as one plain paragraph.

use rand::Rng;
use rand::rngs::StdRng;

use super::random::{pick, pick_distinct, weighted};
use super::tables::{Condition, tables};
use super::visits::Visit;
use crate::model::consultation::SessionType;

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
        text.push_str(&presenting_history(rng, visit));
        text.push('\n');
        let age = visit.chart.age;
        if let Some(social) = tables().social(age) {
            text.push_str(pick(rng, social));
        }
        if let Some(habits) = tables().substances(age) {
            text.push(' ');
            text.push_str(pick(rng, habits));
        }
    } else {
        review_opening(rng, topic, '\n', &mut text);
    }
    text
}

/// How the illness began, with how long it has lasted.
fn presenting_history(rng: &mut StdRng, visit: &Visit) -> String {
    pick(rng, &visit.topic.history).replace("{d}", visit.chart.duration_words)
}

/// A follow-up's opening: "Review of low mood. Feels much better overall.", then after
/// `separator` how the treatment has been taken.
fn review_opening(rng: &mut StdRng, topic: &Condition, separator: char, out: &mut String) {
    out.push_str("Review of ");
    out.push_str(topic.name);
    out.push_str(". ");
    out.push_str(progress(rng, topic));
    out.push(separator);
    out.push_str(pick(rng, &tables().adherence));
}

fn progress(rng: &mut StdRng, topic: &Condition) -> &'static str {
    if topic.psychiatric && rng.random_bool(0.15) {
        "Mood dipped after a family bereavement last month."
    } else {
        pick(rng, &tables().progress)
    }
}

/// A first visit's impression, or at a follow-up often one about the response to treatment.
fn impression(rng: &mut StdRng, visit: &Visit) -> &'static str {
    if visit.first_visit || rng.random_bool(0.4) {
        pick(rng, &visit.topic.impressions)
    } else {
        pick(rng, &visit.topic.review_impressions)
    }
}

/// What a doctor has typed so far in a consultation that is still open, or was cancelled.
pub(super) fn partial_notes(rng: &mut StdRng, visit: &Visit) -> String {
    let style = Style::new(rng);
    let mut out = String::with_capacity(300);
    let history = history_text(rng, visit);
    style.text(rng, &mut out, H_HISTORY, &history);
    if rng.random_bool(0.4) {
        let exam = pick(rng, &visit.topic.exam);
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
pub(super) fn full_notes(rng: &mut StdRng, visit: &Visit) -> String {
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
        exam.push_str(pick(rng, &topic.exam));
        let headings = if topic.psychiatric { H_MSE } else { H_EXAM };
        style.text(rng, &mut out, headings, &exam);
        sections += 1;
    }
    if rng.random_bool(0.85) {
        let mut assessment = impression(rng, visit).to_string();
        // A formal risk statement is recorded for adolescents and adults.
        if topic.psychiatric && visit.chart.age >= 12 {
            assessment.push('\n');
            assessment.push_str(pick(rng, &tables().risk));
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
            let d = style.diagnosis(pick(rng, &topic.diagnoses));
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
        let meds: Vec<String> = pick_distinct(rng, &topic.medications, count)
            .into_iter()
            .map(String::from)
            .collect();
        style.list(rng, &mut out, H_MEDICATIONS, &meds);
        sections += 1;
    }
    if rng.random_bool(0.85) {
        let count = rng.random_range(1..=3);
        let mut plan: Vec<String> = pick_distinct(rng, &topic.plans, count)
            .into_iter()
            .map(String::from)
            .collect();
        if rng.random_bool(0.5) {
            plan.push(pick(rng, &tables().general_plans).to_string());
        }
        style.list(rng, &mut out, H_PLAN, &plan);
        sections += 1;
    }
    if rng.random_bool(0.75) || sections == 0 {
        let follow_up = pick(rng, &tables().follow_ups);
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
        out.push_str(&presenting_history(rng, visit));
    } else {
        review_opening(rng, topic, ' ', &mut out);
    }
    out.push('\n');
    out.push_str(pick(rng, &topic.exam));
    out.push('\n');
    out.push_str(impression(rng, visit));
    out.push_str(if visit.first_visit {
        " Started "
    } else {
        " Continue "
    });
    out.push_str(pick(rng, &topic.medications));
    out.push_str(". Review in ");
    out.push_str(pick(
        rng,
        &["two weeks", "a month", "six weeks", "three months"],
    ));
    out.push('.');
    out
}

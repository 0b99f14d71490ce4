//! A patient's consultations over the past year: when each took place, what kind it was, how
//! it ended (in progress, cancelled, or with a report in one of its states), and its session
//! code.

use chrono::Datelike;
use rand::Rng;
use rand::rngs::StdRng;

use super::SynthConsultation;
use super::notes::{full_notes, partial_notes};
use super::random::{DAY, HOUR, MINUTE, at, pick, scramble, uuid_at, weighted};
use super::report::report;
use super::tables::{Condition, tables};
use crate::model::consultation::{ConsultationStatus, SessionType};
use crate::model::report::ReportStatus;

fn time_of_day(rng: &mut StdRng, session_type: SessionType) -> i64 {
    if session_type == SessionType::Emergency {
        rng.random_range(0..DAY)
    } else {
        // Clinic appointments in 5-minute slots from 08:00 to 17:30, started a little late.
        8 * HOUR + rng.random_range(0..=114) * 5 * MINUTE + rng.random_range(0..5 * MINUTE)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    InProgress,
    Cancelled,
    Report(ReportStatus),
}

/// What every consultation of one patient shares.
pub(super) struct Chart<'a> {
    pub(super) now: i64,
    pub(super) mrn_seq: i64,
    pub(super) age: u32,
    /// What the patient mostly comes about.
    pub(super) condition: &'static Condition,
    /// Something else they sometimes come about.
    pub(super) other: &'static Condition,
    /// How long the illness has lasted, in words: "3 months".
    pub(super) duration_words: &'a str,
}

pub(super) fn consultations(rng: &mut StdRng, chart: &Chart) -> Vec<SynthConsultation> {
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
pub(super) struct Visit<'a> {
    pub(super) chart: &'a Chart<'a>,
    start: i64,
    pub(super) session_type: SessionType,
    outcome: Outcome,
    pub(super) topic: &'static Condition,
    pub(super) first_visit: bool,
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
        Some(topic.review_complaint.to_string())
    } else {
        Some((pick(rng, &topic.complaints)).to_string())
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
            let reason = (pick(rng, &tables().cancel_reasons)).to_string();
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

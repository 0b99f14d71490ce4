//! The report of a completed consultation: drafted by the report generator from the notes,
//! then perhaps edited, signed and given addenda, each step later than the one before.

use rand::rngs::StdRng;

use super::random::{DAY, MINUTE, at, later, pick, uuid_at, weighted};
use super::tables::tables;
use super::{SynthAddendum, SynthReport};
use crate::model::report::{ReportContent, ReportStatus};
use crate::reportgen;

pub(super) fn report(
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
        let added = pick(rng, &tables().edit_recommendations);
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
                text: (pick(rng, &tables().addenda)).to_string(),
                created_at: at(last),
            });
        }
    }
    report.updated_at = at(last);
    report
}

//! How complete a draft is: the weighted share of the report's sections the notes filled,
//! stored with the report as its confidence.

use crate::model::report::ReportContent;

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

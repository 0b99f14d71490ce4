//! `Patient/{id}/$everything`: the whole record the export reads, as one searchset Bundle:
//! the Patient (the match), its AllergyIntolerances, an Encounter per consultation, a
//! DiagnosticReport and a Composition per report, and a Provenance per signature.

use serde_json::Value;

use super::bundle::{Entry, searchset};
use super::{Context, allergy, composition, diagnostic_report, encounter, patient, provenance};
use crate::model::export::PatientRecord;

pub fn bundle(context: &Context, record: &PatientRecord, self_url: &str) -> Value {
    let mut entries = vec![Entry::matched(patient::from_chart(
        context,
        &record.patient,
    ))];
    entries.extend(
        allergy::of_chart(&record.patient)
            .into_iter()
            .map(Entry::included),
    );
    entries.extend(
        record
            .consultations
            .iter()
            .map(|c| Entry::included(encounter::from_consultation(c))),
    );
    let author = &record.patient.summary.doctor.full_name;
    for report in &record.reports {
        entries.push(Entry::included(diagnostic_report::from_report(report)));
        entries.push(Entry::included(composition::from_report(report, author)));
        if let Some(signature) = provenance::of_signature(report) {
            entries.push(Entry::included(signature));
        }
    }
    // No total: a searchset's total counts the matches across pages, and this one is a
    // single page with one match and everything included with it.
    searchset(context, entries, None, self_url, None)
}

//! What every generated data set must be: reproducible, inside its plan, accepted by the API's
//! own validation, ordered in time, and varied enough to exercise search and every status.

use std::collections::HashSet;

use chrono::Datelike;

use super::*;
use crate::model::patient::{AllergyStatus, NewPatient};
use crate::model::validate;
use crate::reportgen;

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

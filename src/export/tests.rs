//! The export's own tests: file names, and the Markdown of a report and a record. The PDF is
//! read back with poppler in tests/export_pdf.rs.

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::{ExportKind, file_name};
use crate::model::export::{ExportFormat, ExportedReport, PatientRecord};
use crate::model::patient::{
    Allergies, Allergy, AllergyStatus, DoctorSummary, Patient, PatientSummary, Sex,
};
use crate::model::report::*;
use crate::model::status::SessionType;

fn report(status: ReportStatus) -> Report {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 3, 9, 30, 0)
        .single()
        .expect("time");
    let signed = status == ReportStatus::Signed;
    Report {
        summary: ReportSummary {
            id: Uuid::nil(),
            status,
            report_type: "psychiatric_evaluation".into(),
            confidence: Some(0.8),
            created_at: at,
            updated_at: at,
            signed_at: signed.then_some(at),
            patient: ReportPatient {
                id: Uuid::nil(),
                mrn: "MRN-000042".into(),
                full_name: "Nguyễn Thị Hằng".into(),
                date_of_birth: NaiveDate::from_ymd_opt(1980, 2, 29).expect("date"),
                age: 46,
                sex: Sex::Female,
            },
            consultation: ReportConsultation {
                id: Uuid::nil(),
                session_code: "SES-1".into(),
                session_type: SessionType::FollowUp,
                chief_complaint: Some("Low mood".into()),
                started_at: at,
                duration_minutes: Some(30),
            },
        },
        version: 2,
        content: ReportContent {
            history: Some("# not a heading <b>bold</b>".into()),
            ..Default::default()
        },
        generator: None,
        signed_by: signed.then(|| PersonRef {
            id: Uuid::nil(),
            full_name: "Dr. Núñez".into(),
        }),
        addenda: vec![],
        failure_reason: None,
    }
}

#[test]
fn file_names_carry_the_mrn_and_date_never_anything_else() {
    let date = NaiveDate::from_ymd_opt(2026, 12, 2).expect("date");
    assert_eq!(
        file_name("MRN-004211", ExportKind::Report, date, ExportFormat::Pdf),
        "MRN-004211-report-2026-12-02.pdf"
    );
    assert_eq!(
        file_name("../a b\"", ExportKind::Record, date, ExportFormat::Md),
        "___a_b_-record-2026-12-02.md"
    );
}

#[test]
fn markdown_of_a_draft_says_so_and_escapes_what_people_typed() {
    let exported = ExportedReport {
        report: report(ReportStatus::Completed),
        allergies: Some(Allergies {
            status: AllergyStatus::Known,
            items: vec![Allergy {
                substance: "Penicillin".into(),
                reaction: Some("rash".into()),
                severity: Some("severe".into()),
            }],
        }),
    };
    let at = Utc::now();
    let md = String::from_utf8(super::report(&exported, ExportFormat::Md, at).expect("renders"))
        .expect("utf-8");
    assert!(md.contains("Nguyễn Thị Hằng"), "{md}");
    assert!(md.contains("MRN-000042"), "{md}");
    assert!(md.contains("Penicillin (rash, severe)"), "{md}");
    assert!(md.contains("DRAFT — NOT SIGNED"), "{md}");
    assert!(md.contains("\\# not a heading \\<b\\>bold\\</b\\>"), "{md}");
    assert!(md.contains("not signed"), "{md}");
}

#[test]
fn markdown_of_a_signed_report_names_the_signer_and_time() {
    let exported = ExportedReport {
        report: report(ReportStatus::Signed),
        allergies: None,
    };
    let md =
        String::from_utf8(super::report(&exported, ExportFormat::Md, Utc::now()).expect("renders"))
            .expect("utf-8");
    assert!(md.contains("Dr. Núñez at 2026-11-03 09:30 UTC"), "{md}");
    assert!(!md.contains("DRAFT"), "{md}");
}

#[test]
fn a_record_renders_the_chart_and_every_report() {
    let summary = report(ReportStatus::Signed).summary.patient;
    let at = Utc::now();
    let patient = Patient {
        summary: PatientSummary {
            id: summary.id,
            mrn: summary.mrn.clone(),
            full_name: "Jürgen Müller".into(),
            date_of_birth: summary.date_of_birth,
            age: summary.age,
            sex: Sex::Male,
            phone: None,
            email: None,
            last_visit_at: None,
            active_consultation_id: None,
            doctor: DoctorSummary {
                id: Uuid::nil(),
                full_name: "Dr. Núñez".into(),
            },
        },
        address: None,
        referred_by: None,
        illness_duration: None,
        allergies: Allergies {
            status: AllergyStatus::NoneKnown,
            items: vec![],
        },
        alerts: vec!["Fall risk".into()],
        symptoms: vec![],
        consultation_count: 0,
        created_at: at,
        updated_at: at,
    };
    let record = PatientRecord {
        patient,
        consultations: vec![],
        reports: vec![
            report(ReportStatus::Signed),
            report(ReportStatus::Completed),
        ],
    };
    for format in ExportFormat::ALL {
        let bytes = super::patient_record(&record, *format, at).expect("renders");
        assert!(!bytes.is_empty());
    }
    let md =
        String::from_utf8(super::patient_record(&record, ExportFormat::Md, at).expect("renders"))
            .expect("utf-8");
    assert!(md.contains("Jürgen Müller"), "{md}");
    assert!(md.contains("No known allergies"), "{md}");
    assert!(md.contains("Fall risk"), "{md}");
    assert!(md.contains("Report 2 of 2"), "{md}");
}

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

/// Writes `pdf` to a temporary file and answers poppler's tools about it.
struct PdfFile {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl PdfFile {
    fn new(pdf: &[u8]) -> PdfFile {
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("export.pdf");
        std::fs::write(&path, pdf).expect("writes the PDF");
        // To look at what a test wrote: SYNAPSE_KEEP_PDFS=/some/dir keeps a copy of each.
        if let Some(keep) = std::env::var_os("SYNAPSE_KEEP_PDFS") {
            let name = format!("{}.pdf", Uuid::new_v4());
            let _ = std::fs::copy(&path, std::path::Path::new(&keep).join(name));
        }
        PdfFile { _dir: dir, path }
    }

    fn run(&self, tool: &str, args: &[&str]) -> String {
        let out = std::process::Command::new(tool)
            .args(args)
            .arg(&self.path)
            .arg("-")
            .output()
            .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
        assert!(out.status.success(), "{tool}: {:?}", out);
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn pages(&self) -> usize {
        let out = std::process::Command::new("pdfinfo")
            .arg(&self.path)
            .output()
            .expect("pdfinfo (poppler-utils) must be installed");
        let info = String::from_utf8_lossy(&out.stdout).to_string();
        let line = info
            .lines()
            .find(|l| l.starts_with("Pages:"))
            .unwrap_or_else(|| panic!("{info}"));
        line["Pages:".len()..].trim().parse().expect("a count")
    }

    fn page_text(&self, page: usize) -> String {
        let n = page.to_string();
        self.run("pdftotext", &["-f", &n, "-l", &n])
    }

    fn fonts(&self) -> String {
        let out = std::process::Command::new("pdffonts")
            .arg(&self.path)
            .output()
            .expect("pdffonts (poppler-utils) must be installed");
        String::from_utf8_lossy(&out.stdout).to_string()
    }
}

fn long_report(status: ReportStatus) -> ExportedReport {
    let mut report = report(status);
    let sentence = "Sleeps poorly since the spring, wakes at four, and worries about work; \
                    appetite reduced, weight stable. ";
    report.content.history = Some(sentence.repeat(60));
    report.content.assessment = Some(format!("{}\n\nSecond paragraph.", sentence.repeat(40)));
    report.content.recommendations = (1..=30).map(|i| format!("Recommendation {i}")).collect();
    if status == ReportStatus::Signed {
        report.addenda = vec![Addendum {
            id: Uuid::nil(),
            text: "Called the patient: sleeping better.".into(),
            author: PersonRef {
                id: Uuid::nil(),
                full_name: "Dr. Núñez".into(),
            },
            created_at: report.summary.created_at,
        }];
    }
    ExportedReport {
        report,
        allergies: Some(Allergies {
            status: AllergyStatus::Known,
            items: vec![Allergy {
                substance: "Penicillin".into(),
                reaction: Some("rash".into()),
                severity: None,
            }],
        }),
    }
}

#[test]
fn a_long_pdf_flows_over_pages_each_with_the_banner_and_its_number() {
    let exported = long_report(ReportStatus::Signed);
    let pdf = super::report(&exported, ExportFormat::Pdf, Utc::now()).expect("renders");
    let file = PdfFile::new(&pdf);
    let pages = file.pages();
    assert!(pages >= 3, "{pages} pages");
    for page in 1..=pages {
        let text = file.page_text(page);
        assert!(text.contains("Nguyễn Thị Hằng"), "page {page}: {text}");
        assert!(text.contains("Born 1980-02-29"), "page {page}: {text}");
        assert!(text.contains("MRN-000042"), "page {page}: {text}");
        assert!(
            text.contains("Allergies: Penicillin (rash)"),
            "page {page}: {text}"
        );
        assert!(
            text.contains(&format!("Page {page} of {pages}")),
            "page {page}: {text}"
        );
        assert!(!text.contains("DRAFT"), "page {page}: {text}");
    }
    let all = file.run("pdftotext", &[]);
    assert!(all.contains("Dr. Núñez at 2026-11-03 09:30 UTC"), "{all}");
    assert!(
        all.contains("Called the patient: sleeping better."),
        "{all}"
    );
    assert!(all.contains("Recommendation 30"), "{all}");
    assert!(all.contains("Second paragraph."), "{all}");
    // Embedded subsets, never a font the printer has to have.
    let fonts = file.fonts();
    assert!(fonts.contains("DejaVuSans"), "{fonts}");
    for line in fonts.lines().skip(2) {
        assert!(line.contains(" yes "), "not embedded: {line}");
    }
}

#[test]
fn an_unsigned_pdf_says_draft_across_every_page() {
    let exported = long_report(ReportStatus::Completed);
    let pdf = super::report(&exported, ExportFormat::Pdf, Utc::now()).expect("renders");
    let file = PdfFile::new(&pdf);
    let pages = file.pages();
    assert!(pages >= 2, "{pages} pages");
    for page in 1..=pages {
        let text = file.page_text(page);
        assert!(text.contains("DRAFT — NOT SIGNED"), "page {page}: {text}");
    }
}

#[test]
fn non_latin_names_read_back_exactly() {
    let mut exported = long_report(ReportStatus::Signed);
    exported.report.content = ReportContent {
        assessment: Some("Müller, Núñez and Nguyễn Văn Đức agree.".into()),
        ..Default::default()
    };
    let pdf = super::report(&exported, ExportFormat::Pdf, Utc::now()).expect("renders");
    let file = PdfFile::new(&pdf);
    assert_eq!(file.pages(), 1);
    let text = file.page_text(1);
    assert!(text.contains("Nguyễn Thị Hằng"), "{text}");
    assert!(
        text.contains("Müller, Núñez and Nguyễn Văn Đức agree."),
        "{text}"
    );
}

#[test]
fn a_line_break_in_a_one_line_field_starts_nothing_of_its_own() {
    use super::{Banner, Block, Document, Section};
    let document = Document {
        title: "t".into(),
        banner: Banner {
            full_name: "A\n# B".into(),
            date_of_birth: "1970-01-01".into(),
            mrn: "MRN-000001".into(),
            allergies: "none".into(),
        },
        sections: vec![Section {
            draft: false,
            blocks: vec![
                Block::Field("Reaction".into(), "rash\n---".into()),
                Block::Notice("failed\n- fake item".into()),
            ],
        }],
        footer: "f".into(),
    };
    let md = super::markdown::render(&document);
    assert!(md.contains("rash ---"), "{md}");
    assert!(md.contains("failed - fake item"), "{md}");
    assert_eq!(
        md.lines().filter(|l| l.starts_with("- ")).count(),
        1,
        "{md}"
    );
}

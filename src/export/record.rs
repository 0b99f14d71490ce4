//! From the model to a `Document`: a report (its content, signature and addenda), and a
//! patient's record (the chart, the consultations, then every report on a page of its own).

use chrono::{DateTime, Utc};

use super::document::{Banner, Block, DRAFT_MARK, Document, Section};
use crate::model::export::{ExportedReport, PatientRecord};
use crate::model::patient::{Allergies, AllergyStatus, Patient};
use crate::model::report::{Report, ReportPatient, ReportStatus};

/// A time as printed: minutes, in UTC, saying so.
fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A wire name (`follow_up`) as words (`follow up`).
fn words(name: &str) -> String {
    name.replace('_', " ")
}

fn footer(at: DateTime<Utc>) -> String {
    format!("Exported from Synapse {}", when(at))
}

/// The allergy line of the banner.
pub fn allergy_line(allergies: &Allergies) -> String {
    match allergies.status {
        AllergyStatus::NoneKnown => "No known allergies".to_string(),
        AllergyStatus::NotRecorded => "Allergies not recorded".to_string(),
        AllergyStatus::Known if allergies.items.is_empty() => "Allergies: known".to_string(),
        AllergyStatus::Known => {
            let items: Vec<String> = allergies
                .items
                .iter()
                .map(|a| {
                    let detail: Vec<&str> = [a.reaction.as_deref(), a.severity.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    if detail.is_empty() {
                        a.substance.clone()
                    } else {
                        format!("{} ({})", a.substance, detail.join(", "))
                    }
                })
                .collect();
            format!("Allergies: {}", items.join("; "))
        }
    }
}

fn banner(patient: &Patient) -> Banner {
    Banner {
        full_name: patient.summary.full_name.clone(),
        date_of_birth: patient.summary.date_of_birth.to_string(),
        mrn: patient.summary.mrn.clone(),
        allergies: allergy_line(&patient.allergies),
    }
}

/// A report's banner: the identifiers the report carries, and the allergies of the chart
/// when it was read (a chart the caller cannot read says so rather than "none").
fn report_banner(patient: &ReportPatient, allergies: Option<&Allergies>) -> Banner {
    Banner {
        full_name: patient.full_name.clone(),
        date_of_birth: patient.date_of_birth.to_string(),
        mrn: patient.mrn.clone(),
        allergies: allergies
            .map(allergy_line)
            .unwrap_or_else(|| "Allergies: see the patient's chart".to_string()),
    }
}

/// The report's blocks under `title`.
fn report_blocks(report: &Report, title: String) -> Vec<Block> {
    let summary = &report.summary;
    let mut blocks = vec![Block::Title(title)];
    if summary.status != ReportStatus::Signed {
        blocks.push(Block::Notice(format!(
            "{DRAFT_MARK}: this report is {} and has not been signed.",
            summary.status.as_str()
        )));
    }
    if let Some(reason) = &report.failure_reason {
        blocks.push(Block::Notice(format!("Generation failed: {reason}")));
    }
    let consultation = &summary.consultation;
    blocks.push(Block::Field(
        "Consultation".into(),
        format!(
            "{} · {} · {}",
            consultation.session_code,
            words(consultation.session_type.as_str()),
            when(consultation.started_at)
        ),
    ));
    if let Some(complaint) = &consultation.chief_complaint {
        blocks.push(Block::Field("Chief complaint".into(), complaint.clone()));
    }
    blocks.push(Block::Field(
        "Status".into(),
        summary.status.as_str().into(),
    ));
    blocks.push(Block::Field("Version".into(), report.version.to_string()));
    blocks.push(Block::Field("Created".into(), when(summary.created_at)));
    match (&report.signed_by, summary.signed_at) {
        (Some(signer), Some(at)) => blocks.push(Block::Field(
            "Signed".into(),
            format!("{} at {}", signer.full_name, when(at)),
        )),
        _ => blocks.push(Block::Field("Signed".into(), "not signed".into())),
    }
    let content = &report.content;
    let texts = [
        ("History", &content.history),
        ("Mental status", &content.mental_status),
        ("Assessment", &content.assessment),
    ];
    for (heading, text) in texts {
        if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
            blocks.push(Block::Heading(heading.into()));
            blocks.push(Block::Paragraph(text.to_string()));
        }
    }
    if !content.diagnoses.is_empty() {
        blocks.push(Block::Heading("Diagnoses".into()));
        blocks.extend(content.diagnoses.iter().map(|d| {
            Block::Bullet(match &d.code {
                Some(code) => format!("{code} — {}", d.description),
                None => d.description.clone(),
            })
        }));
    }
    if !content.medication_plan.is_empty() {
        blocks.push(Block::Heading("Medication plan".into()));
        blocks.extend(
            content
                .medication_plan
                .iter()
                .map(|m| Block::Bullet(m.summary())),
        );
    }
    if !content.recommendations.is_empty() {
        blocks.push(Block::Heading("Recommendations".into()));
        blocks.extend(content.recommendations.iter().cloned().map(Block::Bullet));
    }
    if let Some(text) = content
        .follow_up
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        blocks.push(Block::Heading("Follow-up".into()));
        blocks.push(Block::Paragraph(text.to_string()));
    }
    if !report.addenda.is_empty() {
        blocks.push(Block::Heading("Addenda".into()));
        for addendum in &report.addenda {
            blocks.push(Block::Subheading(format!(
                "{} at {}",
                addendum.author.full_name,
                when(addendum.created_at)
            )));
            blocks.push(Block::Paragraph(addendum.text.clone()));
        }
    }
    blocks
}

fn report_section(report: &Report, title: String) -> Section {
    Section {
        draft: report.summary.status != ReportStatus::Signed,
        blocks: report_blocks(report, title),
    }
}

/// One report, exported at `at`.
pub fn report_document(exported: &ExportedReport, at: DateTime<Utc>) -> Document {
    let report = &exported.report;
    let title = format!("Report: {}", words(&report.summary.report_type));
    Document {
        title: "Clinical report".into(),
        banner: report_banner(&report.summary.patient, exported.allergies.as_ref()),
        sections: vec![report_section(report, title)],
        footer: footer(at),
    }
}

/// A patient's record, exported at `at`.
pub fn record_document(record: &PatientRecord, at: DateTime<Utc>) -> Document {
    let patient = &record.patient;
    let summary = &patient.summary;
    let mut blocks = vec![
        Block::Title("Patient record".into()),
        Block::Field("Name".into(), summary.full_name.clone()),
        Block::Field("Date of birth".into(), summary.date_of_birth.to_string()),
        Block::Field("Age".into(), summary.age.to_string()),
        Block::Field("Sex".into(), summary.sex.as_str().into()),
        Block::Field("MRN".into(), summary.mrn.clone()),
        Block::Field("Doctor".into(), summary.doctor.full_name.clone()),
    ];
    if let Some(referred_by) = &patient.referred_by {
        blocks.push(Block::Field("Referred by".into(), referred_by.clone()));
    }
    blocks.push(Block::Heading("Allergies".into()));
    match patient.allergies.status {
        AllergyStatus::Known if !patient.allergies.items.is_empty() => {
            blocks.extend(patient.allergies.items.iter().map(|a| {
                let detail: Vec<&str> = [a.reaction.as_deref(), a.severity.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                Block::Bullet(if detail.is_empty() {
                    a.substance.clone()
                } else {
                    format!("{} — {}", a.substance, detail.join(", "))
                })
            }))
        }
        _ => blocks.push(Block::Paragraph(allergy_line(&patient.allergies))),
    }
    if !patient.alerts.is_empty() {
        blocks.push(Block::Heading("Alerts".into()));
        blocks.extend(patient.alerts.iter().cloned().map(Block::Notice));
    }
    blocks.push(Block::Heading(format!(
        "Consultations ({})",
        record.consultations.len()
    )));
    if record.consultations.is_empty() {
        blocks.push(Block::Paragraph("None recorded.".into()));
    }
    for consultation in &record.consultations {
        let mut line = format!(
            "{} · {} · {} · {}",
            when(consultation.started_at),
            consultation.session_code,
            words(consultation.session_type.as_str()),
            words(consultation.status.as_str()),
        );
        if let Some(complaint) = &consultation.chief_complaint {
            line.push_str(" · ");
            line.push_str(complaint);
        }
        blocks.push(Block::Bullet(line));
    }
    blocks.push(Block::Heading(format!(
        "Reports ({})",
        record.reports.len()
    )));
    if record.reports.is_empty() {
        blocks.push(Block::Paragraph("None.".into()));
    }
    let count = record.reports.len();
    let mut sections = vec![Section {
        draft: false,
        blocks,
    }];
    sections.extend(record.reports.iter().enumerate().map(|(i, report)| {
        let title = format!(
            "Report {} of {count}: {}",
            i + 1,
            words(&report.summary.report_type)
        );
        report_section(report, title)
    }));
    Document {
        title: "Patient record".into(),
        banner: banner(patient),
        sections,
        footer: footer(at),
    }
}

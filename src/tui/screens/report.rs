//! Reading a report: the patient banner line, the sections laid out for reading, signature and
//! addenda; scrollable, with `n`/`p` through the list it was opened from. Signing, editing and
//! addenda start here and run in their dialogs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use uuid::Uuid;

use crate::client::ApiError;
use crate::model::patient::Patient;
use crate::model::report::{Report, ReportContent, ReportStatus};
use crate::model::text::printable;
use crate::tui::components::dialogs::{self, AddendumDialog, EditDialog, SignDialog};
use crate::tui::effect::{Call, Effect, ExportTarget};
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::{Dialog, Load, Screen, Section, State, ToastKind};
use crate::tui::ui::common::{banner_layout, name, notice, patient_banner};
use crate::tui::update::{call, handle_error};

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::NextReport,
    Command::PreviousReport,
    Command::Edit,
    Command::Sign,
    Command::Addendum,
    Command::Back,
];

/// The status of the report on screen, once loaded.
pub(crate) fn shown_status(state: &State) -> Option<ReportStatus> {
    state.report.report.ready().map(|r| r.summary.status)
}

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::NextReport,
    Command::PreviousReport,
    Command::Edit,
    Command::Sign,
    Command::Addendum,
    Command::Export,
];

/// The report being read, and the list it was opened from (for `n`/`p`).
#[derive(Debug, Clone, Default)]
pub struct ReportView {
    pub report: Load<Report>,
    /// The patient the report is about, for the banner pinned above it (allergies, alerts).
    pub patient: Option<Patient>,
    pub scroll: u16,
    /// Ids of the list the report was opened from, and its position there.
    pub siblings: Vec<Uuid>,
    pub position: usize,
}

/// Opens a report, remembering the list it came from for `n`/`p`.
pub(crate) fn open(state: &mut State, id: Uuid, siblings: Vec<Uuid>) -> Vec<Effect> {
    let position = siblings.iter().position(|s| *s == id).unwrap_or(0);
    state.report = ReportView {
        report: Load::Loading,
        patient: state.report.patient.take(),
        scroll: 0,
        siblings,
        position,
    };
    state.go(Screen::Report);
    vec![call(state, Call::Report(id))]
}

/// Loads the report being read again.
pub(crate) fn refresh(state: &mut State) -> Vec<Effect> {
    match state.report.report.ready().map(|r| r.summary.id) {
        Some(id) => vec![call(state, Call::Report(id))],
        None => Vec::new(),
    }
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    match command {
        Command::Up => state.report.scroll = state.report.scroll.saturating_sub(1),
        Command::Down => state.report.scroll = state.report.scroll.saturating_add(1),
        Command::PageUp => state.report.scroll = state.report.scroll.saturating_sub(page as u16),
        Command::PageDown => state.report.scroll = state.report.scroll.saturating_add(page as u16),
        Command::Top => state.report.scroll = 0,
        Command::NextReport | Command::PreviousReport => {
            let len = state.report.siblings.len();
            if len == 0 {
                return Vec::new();
            }
            let position = state.report.position;
            let next = if command == Command::NextReport {
                (position + 1).min(len - 1)
            } else {
                position.saturating_sub(1)
            };
            if next == position {
                return Vec::new();
            }
            let id = state.report.siblings[next];
            state.report.position = next;
            state.report.scroll = 0;
            state.report.report = Load::Loading;
            return vec![call(state, Call::Report(id))];
        }
        Command::Sign => {
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            match report.summary.status {
                ReportStatus::Completed => {
                    state.dialog = Some(Dialog::Sign(SignDialog::new(report)));
                }
                ReportStatus::Signed => state.toast(
                    "This report is already signed; add an addendum with a.",
                    ToastKind::Info,
                ),
                ReportStatus::Failed => {
                    let edit = state.settings.keymap.hint_key(Command::Edit, Scope::Report);
                    state.toast(
                        format!(
                            "There is nothing to sign yet: write the report by hand first ({edit})."
                        ),
                        ToastKind::Info,
                    );
                }
                other => state.toast(
                    format!("A {} report cannot be signed.", other.as_str()),
                    ToastKind::Info,
                ),
            }
        }
        Command::Edit => {
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            // A failed report is written by hand; the save makes it a draft to sign.
            let section = match report.summary.status {
                ReportStatus::Completed => Section::Assessment,
                ReportStatus::Failed => Section::History,
                ReportStatus::Signed => {
                    state.toast(
                        "This report is signed and can no longer change; add an addendum with a.",
                        ToastKind::Info,
                    );
                    return Vec::new();
                }
                other => {
                    state.toast(
                        format!(
                            "This report is {}; it can be edited once generation is done.",
                            other.as_str()
                        ),
                        ToastKind::Info,
                    );
                    return Vec::new();
                }
            };
            state.dialog = Some(Dialog::EditReport(Box::new(EditDialog::new(
                report, section,
            ))));
        }
        Command::Addendum => {
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            if report.summary.status != ReportStatus::Signed {
                state.toast(
                    "Addenda are for signed reports; edit the draft instead.",
                    ToastKind::Info,
                );
                return Vec::new();
            }
            state.dialog = Some(Dialog::Addendum(AddendumDialog::new(report.summary.id)));
        }
        Command::Export => {
            let Some(report) = state.report.report.ready() else {
                return Vec::new();
            };
            let id = report.summary.id;
            let dir = state.settings.documents_dir.clone();
            state.toast("Exporting the report…", ToastKind::Info);
            return vec![call(state, Call::Export(ExportTarget::Report(id), dir))];
        }
        _ => {}
    }
    Vec::new()
}

pub(crate) fn on_report(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        // Only the report now asked for: `n`/`p` pressed quickly can answer out of order.
        Ok(report)
            if state
                .report
                .siblings
                .get(state.report.position)
                .is_none_or(|wanted| *wanted == report.summary.id) =>
        {
            let patient_id = report.summary.patient.id;
            // The sign dialog may be waiting for it, to show what changed.
            if let Some(report) = dialogs::on_reloaded(state, report) {
                state.report.report = Load::Ready(report);
            }
            return banner_patient(state, patient_id);
        }
        Ok(_) => {}
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.report.report = Load::Failed(error.message);
        }
    }
    Vec::new()
}

/// Makes sure the banner shows `patient_id`: the chart's copy when it is that patient's, else
/// fetched. Until then the banner says what the report itself knows.
fn banner_patient(state: &mut State, patient_id: Uuid) -> Vec<Effect> {
    if state.report.patient.as_ref().map(|p| p.summary.id) == Some(patient_id) {
        return Vec::new();
    }
    state.report.patient = None;
    match state.chart.patient.ready() {
        Some(patient) if patient.summary.id == patient_id => {
            state.report.patient = Some(patient.clone());
            Vec::new()
        }
        _ => vec![call(state, Call::BannerPatient(patient_id))],
    }
}

/// The banner's patient arrived; only the one the report on screen is about is kept.
pub(crate) fn on_banner_patient(
    state: &mut State,
    result: Result<Patient, ApiError>,
) -> Vec<Effect> {
    match result {
        Ok(patient)
            if state.report.report.ready().map(|r| r.summary.patient.id)
                == Some(patient.summary.id) =>
        {
            state.report.patient = Some(patient);
            Vec::new()
        }
        Ok(_) => Vec::new(),
        Err(error) => handle_error(state, &error).unwrap_or_default(),
    }
}

/// The patient whose banner is pinned above the report on screen, when known.
pub fn banner(state: &State) -> Option<&Patient> {
    let report = state.report.report.ready()?;
    state
        .report
        .patient
        .as_ref()
        .filter(|p| p.summary.id == report.summary.patient.id)
}

/// The sections of a report in reading order, each as its title and its entries as text: what
/// the reader shows, and what the sign dialog compares when the report changed under it.
pub fn sections(content: &ReportContent) -> Vec<(&'static str, Vec<String>)> {
    let text = |t: &Option<String>| t.iter().cloned().collect::<Vec<_>>();
    vec![
        ("History", text(&content.history)),
        ("Mental status", text(&content.mental_status)),
        ("Assessment", text(&content.assessment)),
        (
            "Diagnoses",
            content
                .diagnoses
                .iter()
                .map(|d| match &d.code {
                    Some(code) => format!("{code}  {}", d.description),
                    None => d.description.clone(),
                })
                .collect(),
        ),
        (
            "Medication plan",
            content
                .medication_plan
                .iter()
                .map(crate::model::report::Medication::summary)
                .collect(),
        ),
        (
            "Recommendations",
            content
                .recommendations
                .iter()
                .map(|r| format!("• {r}"))
                .collect(),
        ),
        ("Follow-up", text(&content.follow_up)),
    ]
}

/// Who the report is about, as the report itself says: the browser's preview leads with it,
/// and the reader pins it until the patient's banner (allergies, alerts) has loaded.
pub fn patient_line(state: &State, report: &Report) -> Line<'static> {
    let theme = &state.settings.theme;
    let p = &report.summary.patient;
    let born = if state.privacy {
        "••••-••-••".to_string()
    } else {
        p.date_of_birth.to_string()
    };
    Line::from(vec![
        Span::styled(name(state, &p.full_name), theme.title()),
        Span::raw(format!(
            "   born {born} ({} y)   {}   {}",
            p.age,
            p.sex.as_str(),
            p.mrn
        )),
    ])
}

/// The report as lines of text below who it is about, shared by the reader and the browser's
/// preview.
pub fn report_lines(state: &State, report: &Report) -> Vec<Line<'static>> {
    let theme = &state.settings.theme;
    let s = &report.summary;
    let mut lines = vec![Line::from(vec![
        Span::styled(s.status.as_str().to_uppercase(), theme.status(s.status)),
        Span::raw(format!(
            "  {}  {}  {}  v{}{}",
            s.consultation.session_code,
            s.consultation.session_type.as_str(),
            s.created_at.format("%Y-%m-%d %H:%M"),
            report.version,
            s.confidence
                .map(|c| format!("  confidence {:.0}%", c * 100.0))
                .unwrap_or_default()
        )),
    ])];
    if let Some(complaint) = &s.consultation.chief_complaint {
        lines.push(Line::raw(format!(
            "Complaint: {}",
            printable(complaint, true)
        )));
    }
    // A failed report says why at the top, not below a page of empty sections.
    if let Some(reason) = &report.failure_reason {
        lines.push(Line::styled(
            format!("Generation failed: {}", printable(reason, true)),
            theme.error(),
        ));
    }
    for (title, body) in sections(&report.content) {
        lines.push(Line::raw(""));
        lines.push(Line::styled(title.to_string(), theme.title()));
        if body.is_empty() {
            lines.push(Line::styled("—", theme.muted()));
        }
        for text in body {
            for line in printable(&text, false).lines() {
                lines.push(Line::raw(line.to_string()));
            }
        }
    }
    if let Some(signer) = &report.signed_by {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "Signed by {} on {}",
                printable(&signer.full_name, true),
                s.signed_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default()
            ),
            theme.ok(),
        ));
    }
    for addendum in &report.addenda {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "Addendum — {}, {}",
                printable(&addendum.author.full_name, true),
                addendum.created_at.format("%Y-%m-%d %H:%M")
            ),
            theme.title(),
        ));
        // An addendum is written in lines; each is drawn as its own line.
        lines.extend(
            addendum
                .text
                .lines()
                .map(|line| Line::raw(printable(line, false))),
        );
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let view = &state.report;
    let position = if view.siblings.len() > 1 {
        format!(" {} of {} ", view.position + 1, view.siblings.len())
    } else {
        String::new()
    };
    let block = Block::bordered()
        .title(Line::styled(" Report ", theme.title()))
        .title(Line::raw(position).right_aligned());
    match &view.report {
        Load::Ready(report) => {
            // The patient stays in view however far the report scrolls.
            let area = match banner(state) {
                Some(patient) => {
                    let [top, rest] = banner_layout(area, state, patient);
                    patient_banner(frame, top, state, patient);
                    rest
                }
                None => {
                    let [top, rest] =
                        Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
                    frame.render_widget(
                        Paragraph::new(vec![
                            patient_line(state, report),
                            Line::styled("Loading allergies and alerts…", theme.muted()),
                        ]),
                        top,
                    );
                    rest
                }
            };
            let mut lines = report_lines(state, report);
            if report.summary.status == ReportStatus::Failed {
                // Just below why it failed: what to do about it.
                let at = 1
                    + usize::from(report.failure_reason.is_some())
                    + usize::from(report.summary.consultation.chief_complaint.is_some());
                let key = |command| state.settings.keymap.hint_key(command, Scope::Report);
                lines.insert(
                    at.min(lines.len()),
                    Line::styled(
                        format!(
                            "Write it by hand: {} opens the editor; once saved, {} signs it.",
                            key(Command::Edit),
                            key(Command::Sign)
                        ),
                        theme.warning(),
                    ),
                );
            }
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((view.scroll, 0))
                    .block(block),
                area,
            );
        }
        Load::Failed(error) => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            notice(frame, inner, state, error, true);
        }
        _ => {
            let inner = block.inner(area);
            frame.render_widget(block, area);
            notice(frame, inner, state, "Loading the report…", false);
        }
    }
}

//! Reading a report: the patient banner line, the sections laid out for reading, signature and
//! addenda; scrollable, with `n`/`p` through the list it was opened from. Signing, editing and
//! addenda start here and run in their dialogs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use uuid::Uuid;

use crate::client::{ApiError, ErrorKind};
use crate::model::report::{Report, ReportStatus};
use crate::model::text::printable;
use crate::tui::effect::{Call, Effect};
use crate::tui::input::Notes;
use crate::tui::keymap::Command;
use crate::tui::state::{Dialog, Load, Screen, Section, State, ToastKind};
use crate::tui::ui::common::{name, notice};
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

/// The report being read, and the list it was opened from (for `n`/`p`).
#[derive(Debug, Clone, Default)]
pub struct ReportView {
    pub report: Load<Report>,
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
                    state.dialog = Some(Dialog::Sign {
                        report_id: report.summary.id,
                        confirmed: false,
                        yes: false,
                        password: Default::default(),
                        error: None,
                        busy: false,
                    });
                }
                ReportStatus::Signed => state.toast(
                    "This report is already signed; add an addendum with a.",
                    ToastKind::Info,
                ),
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
            if report.summary.status != ReportStatus::Completed {
                state.toast("Only a completed draft can be edited.", ToastKind::Info);
                return Vec::new();
            }
            let section = Section::Assessment;
            let text = section.get(&report.content).cloned().unwrap_or_default();
            state.dialog = Some(Dialog::EditReport {
                report_id: report.summary.id,
                version: report.version,
                section,
                editor: Notes::from_text(&text),
            });
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
            state.dialog = Some(Dialog::Addendum {
                report_id: report.summary.id,
                text: Default::default(),
            });
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
            state.report.report = Load::Ready(report)
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

/// An edit or an addendum saved; a conflicting edit reloads the report.
pub(crate) fn on_saved(state: &mut State, result: Result<Report, ApiError>) -> Vec<Effect> {
    match result {
        Ok(report) => {
            state.report.report = Load::Ready(report);
            state.toast("Saved.", ToastKind::Info);
            Vec::new()
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            match error.kind {
                ErrorKind::VersionConflict { .. } => {
                    state.toast(
                        "Someone changed this report while you edited it: reloaded. Make your change again.",
                        ToastKind::Error,
                    );
                    refresh(state)
                }
                _ => {
                    state.toast(error.message, ToastKind::Error);
                    Vec::new()
                }
            }
        }
    }
}

/// The report as lines of text, shared by the reader and the browser's preview.
pub fn report_lines(state: &State, report: &Report) -> Vec<Line<'static>> {
    let theme = &state.settings.theme;
    let s = &report.summary;
    let c = &report.content;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(name(state, &s.patient.full_name), theme.title()),
            Span::raw(format!(
                "  {}  {} y  {}",
                s.patient.mrn,
                s.patient.age,
                s.patient.sex.as_str()
            )),
        ]),
        Line::from(vec![
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
        ]),
    ];
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
    let mut section = |title: &str, body: Vec<String>| {
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
    };
    let text = |t: &Option<String>| t.iter().cloned().collect::<Vec<_>>();
    section("History", text(&c.history));
    section("Mental status", text(&c.mental_status));
    section("Assessment", text(&c.assessment));
    section(
        "Diagnoses",
        c.diagnoses
            .iter()
            .map(|d| match &d.code {
                Some(code) => format!("{code}  {}", d.description),
                None => d.description.clone(),
            })
            .collect(),
    );
    section(
        "Medication plan",
        c.medication_plan
            .iter()
            .map(|m| {
                [
                    Some(m.drug.clone()),
                    m.dosage.clone(),
                    m.frequency.clone(),
                    m.duration.clone(),
                    m.instructions.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ")
            })
            .collect(),
    );
    section(
        "Recommendations",
        c.recommendations.iter().map(|r| format!("• {r}")).collect(),
    );
    section("Follow-up", text(&c.follow_up));
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
        lines.push(Line::raw(printable(&addendum.text, false)));
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
            let lines = report_lines(state, report);
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

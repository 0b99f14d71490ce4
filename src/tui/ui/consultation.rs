//! The running consultation: elapsed time, the notes editor (saved as the doctor types), and
//! after stop the report's status live until it is ready to open.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::common::{banner_layout, notice, patient_banner};
use crate::model::consultation::ConsultationStatus;
use crate::model::report::ReportStatus;
use crate::model::text::printable;
use crate::tui::state::State;

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let c = &state.consultation;
    let Some(consultation) = &c.consultation else {
        return notice(frame, area, state, "No consultation.", false);
    };
    let area = match state.patient() {
        Some(patient) if patient.summary.id == consultation.patient_id => {
            let [banner, rest] = banner_layout(area, state, patient);
            patient_banner(frame, banner, state, patient);
            rest
        }
        _ => area,
    };
    let [header, editor] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(3)]).areas(area);
    let elapsed = state.wall_now - consultation.started_at;
    let seconds = elapsed.num_seconds().max(0);
    let clock = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    let save = if c.saving {
        Span::styled("saving…", theme.muted())
    } else if let Some(error) = &c.save_error {
        Span::styled(
            format!("not saved: {}", printable(error, true)),
            theme.error(),
        )
    } else if c.edits != c.saved_edits {
        Span::styled("unsaved changes", theme.warning())
    } else {
        Span::styled("saved", theme.ok())
    };
    let status = match consultation.status {
        ConsultationStatus::InProgress => Line::from(vec![
            Span::styled("● RUNNING ", theme.error()),
            Span::raw(format!(
                "{clock}  {}  {}  ",
                consultation.session_code,
                consultation.session_type.as_str()
            )),
            save,
        ]),
        ConsultationStatus::Cancelled => Line::styled("Cancelled.", theme.muted()),
        ConsultationStatus::Completed => {
            let report = match c.report_status {
                Some(ReportStatus::Pending) | Some(ReportStatus::Generating) | None => {
                    Span::styled("generating the report…", theme.muted())
                }
                Some(ReportStatus::Completed) => {
                    Span::styled("report ready — Enter opens it", theme.ok())
                }
                Some(ReportStatus::Failed) => {
                    Span::styled("report generation failed — Enter opens it", theme.error())
                }
                Some(ReportStatus::Signed) => Span::styled("report signed", theme.ok()),
            };
            Line::from(vec![
                Span::raw(format!(
                    "Stopped after {} min. ",
                    consultation.duration_minutes.unwrap_or(0)
                )),
                report,
            ])
        }
    };
    let complaint = Line::styled(
        format!(
            "Complaint: {}",
            consultation
                .chief_complaint
                .as_deref()
                .map(|x| printable(x, true))
                .unwrap_or_else(|| "—".into())
        ),
        theme.muted(),
    );
    frame.render_widget(Paragraph::new(vec![status, complaint]), header);
    let block = Block::bordered().title(" Notes (History:, Assessment:, Plan:, Medications:…) ");
    let inner = block.inner(editor);
    // Keep the cursor line in view.
    let height = inner.height as usize;
    let top = c.notes.line.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = c
        .notes
        .lines
        .iter()
        .skip(top)
        .take(height)
        .map(|l| Line::raw(l.replace('\t', "    ")))
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), editor);
    if consultation.status == ConsultationStatus::InProgress
        && state.dialog.is_none()
        && state.overlay.is_none()
    {
        let line = &c.notes.lines[c.notes.line.min(c.notes.lines.len().saturating_sub(1))];
        let column: usize = line
            .chars()
            .take(c.notes.column)
            .map(|ch| if ch == '\t' { 4 } else { 1 })
            .sum();
        let x = inner.x + (column as u16).min(inner.width.saturating_sub(1));
        let y = inner.y + (c.notes.line - top) as u16;
        frame.set_cursor_position((x, y));
    }
}

//! The patient chart: the banner, demographics and symptoms, the consultation history (newest
//! first) and this patient's reports.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::common::{banner_layout, contact, notice, patient_banner};
use crate::model::text::printable;
use crate::tui::state::{Load, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let patient = match &state.chart.patient {
        Load::Ready(p) => p,
        Load::Failed(error) => return notice(frame, area, state, error, true),
        _ => return notice(frame, area, state, "Loading the chart…", false),
    };
    let [banner, body] = banner_layout(area, state, patient);
    patient_banner(frame, banner, state, patient);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(body);
    let s = &patient.summary;
    let mut details = vec![
        Line::from(vec![
            Span::styled("Phone    ", theme.muted()),
            Span::raw(contact(state, s.phone.as_ref())),
        ]),
        Line::from(vec![
            Span::styled("Email    ", theme.muted()),
            Span::raw(contact(state, s.email.as_ref())),
        ]),
        Line::from(vec![
            Span::styled("Address  ", theme.muted()),
            Span::raw(contact(state, patient.address.as_ref())),
        ]),
        Line::from(vec![
            Span::styled("Referred ", theme.muted()),
            Span::raw(
                patient
                    .referred_by
                    .as_deref()
                    .map(|r| printable(r, true))
                    .unwrap_or_else(|| "—".into()),
            ),
        ]),
        Line::raw(""),
        Line::styled("Symptoms", theme.title()),
    ];
    if patient.symptoms.is_empty() {
        details.push(Line::styled("none recorded", theme.muted()));
    }
    for symptom in &patient.symptoms {
        let extra = [symptom.severity.as_deref(), symptom.frequency.as_deref()]
            .into_iter()
            .flatten()
            .map(|x| printable(x, true))
            .collect::<Vec<_>>()
            .join(", ");
        details.push(Line::raw(format!(
            "• {}{}",
            printable(&symptom.name, true),
            if extra.is_empty() {
                String::new()
            } else {
                format!(" ({extra})")
            }
        )));
    }
    details.push(Line::raw(""));
    details.push(Line::styled("Consultations", theme.title()));
    match &state.chart.history {
        Load::Ready(items) if items.is_empty() => {
            details.push(Line::styled("none yet", theme.muted()))
        }
        Load::Ready(items) => {
            for c in items.iter().take(12) {
                details.push(Line::raw(format!(
                    "{}  {:<12} {:<10} {}",
                    c.started_at.format("%Y-%m-%d"),
                    c.session_type.as_str(),
                    c.status.as_str(),
                    c.chief_complaint
                        .as_deref()
                        .map(|x| printable(x, true))
                        .unwrap_or_default()
                )));
            }
        }
        Load::Failed(error) => details.push(Line::styled(printable(error, true), theme.error())),
        _ => details.push(Line::styled("loading…", theme.muted())),
    }
    frame.render_widget(
        Paragraph::new(details)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Patient ")),
        left,
    );
    let block = Block::bordered().title(" Reports ");
    match &state.chart.reports {
        Load::Ready(items) if items.is_empty() => {
            let inner = block.inner(right);
            frame.render_widget(block, right);
            notice(frame, inner, state, "No reports for this patient.", false);
        }
        Load::Ready(items) => {
            let rows = items.iter().map(|r| {
                Row::new(vec![
                    Cell::from(r.created_at.format("%Y-%m-%d").to_string()),
                    Cell::from(Span::styled(r.status.as_str(), theme.status(r.status))),
                    Cell::from(r.consultation.session_type.as_str()),
                    Cell::from(
                        r.consultation
                            .chief_complaint
                            .as_deref()
                            .map(|x| printable(x, true))
                            .unwrap_or_default(),
                    ),
                ])
            });
            let table = Table::new(
                rows,
                [
                    Constraint::Length(10),
                    Constraint::Length(10),
                    Constraint::Length(12),
                    Constraint::Min(10),
                ],
            )
            .header(Row::new(["Date", "Status", "Type", "Complaint"]).style(theme.muted()))
            .row_highlight_style(theme.selected())
            .block(block);
            let mut table_state =
                TableState::default().with_selected(Some(state.chart.selected_report));
            frame.render_stateful_widget(table, right, &mut table_state);
        }
        Load::Failed(error) => {
            let inner = block.inner(right);
            frame.render_widget(block, right);
            notice(frame, inner, state, error, true);
        }
        _ => {
            let inner = block.inner(right);
            frame.render_widget(block, right);
            notice(frame, inner, state, "Loading reports…", false);
        }
    }
}

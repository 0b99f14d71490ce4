//! The report browser: the status filter as a chip, the list across the doctor's patients, and
//! a preview of the selected report.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::common::{name, notice};
use super::report::report_lines;
use crate::tui::state::{Load, State};

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let browser = &state.reports;
    let [chips, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    // Each filter is a chip; its key changes it, `x` clears them all.
    let chip = |label: String| Span::styled(format!(" {label} "), theme.bar());
    let mut spans = vec![
        Span::raw(" "),
        chip(format!(
            "f status: {}",
            browser.status.map(|s| s.as_str()).unwrap_or("any")
        )),
        Span::raw(" "),
        chip(format!(
            "t type: {}",
            browser.session_type.map(|t| t.as_str()).unwrap_or("any")
        )),
        Span::raw(" "),
        chip(match browser.within_days {
            Some(days) => format!("d last {days} days"),
            None => "d any date".to_string(),
        }),
    ];
    if let Some((_, patient)) = &browser.patient {
        spans.push(Span::raw(" "));
        spans.push(chip(format!(
            "patient: {}",
            super::common::name(state, patient)
        )));
    }
    spans.push(Span::styled("  x clears", theme.muted()));
    frame.render_widget(Paragraph::new(Line::from(spans)), chips);
    let [list, preview] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let block = Block::bordered().title(Line::styled(
        format!(" Reports · {} ", browser.total),
        theme.title(),
    ));
    match &browser.items {
        Load::Ready(items) if items.is_empty() => {
            let inner = block.inner(list);
            frame.render_widget(block, list);
            notice(
                frame,
                inner,
                state,
                "No reports match these filters.",
                false,
            );
        }
        Load::Ready(items) => {
            // Narrow lists drop the type, then the MRN (both are in the preview) rather than
            // cutting the status words and dates.
            let inner = list.width.saturating_sub(2);
            let with_mrn = inner >= 45;
            let with_type = inner >= 58;
            let rows = items.iter().map(|r| {
                let mut cells = vec![
                    Cell::from(r.created_at.format("%Y-%m-%d").to_string()),
                    Cell::from(Span::styled(r.status.as_str(), theme.status(r.status))),
                    Cell::from(name(state, &r.patient.full_name)),
                ];
                if with_mrn {
                    cells.push(Cell::from(r.patient.mrn.clone()));
                }
                if with_type {
                    cells.push(Cell::from(r.consultation.session_type.as_str()));
                }
                Row::new(cells)
            });
            let mut widths = vec![
                Constraint::Length(10),
                Constraint::Length(10),
                Constraint::Min(12),
            ];
            let mut header = vec!["Date", "Status", "Patient"];
            if with_mrn {
                widths.push(Constraint::Length(10));
                header.push("MRN");
            }
            if with_type {
                widths.push(Constraint::Length(12));
                header.push("Type");
            }
            let table = Table::new(rows, widths)
                .header(Row::new(header).style(theme.muted()))
                .row_highlight_style(theme.selected())
                .block(block);
            let mut table_state = TableState::default().with_selected(Some(browser.selected));
            frame.render_stateful_widget(table, list, &mut table_state);
        }
        Load::Failed(error) => {
            let inner = block.inner(list);
            frame.render_widget(block, list);
            notice(frame, inner, state, error, true);
        }
        _ => {
            let inner = block.inner(list);
            frame.render_widget(block, list);
            notice(frame, inner, state, "Loading reports…", false);
        }
    }
    let preview_block = Block::bordered().title(" Preview ");
    match &browser.preview {
        Some(report) => frame.render_widget(
            Paragraph::new(report_lines(state, report))
                .wrap(Wrap { trim: false })
                .block(preview_block),
            preview,
        ),
        None => frame.render_widget(preview_block, preview),
    }
}

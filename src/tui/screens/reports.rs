//! The report browser: the filters as chips, the list across the doctor's patients, and a
//! preview of the selected report.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};
use uuid::Uuid;

use super::report::{patient_line, report_lines};
use super::{is_motion, moved};
use crate::client::ApiError;
use crate::model::consultation::SessionType;
use crate::model::query::ReportListParams;
use crate::model::report::{Report, ReportPage, ReportStatus, ReportSummary};
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::state::{Load, State};
use crate::tui::ui::common::{name, notice};
use crate::tui::update::handle_error;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::Open,
    Command::CycleStatus,
    Command::Search,
    Command::Back,
];

/// The report browser: filters and the list with a preview.
#[derive(Debug, Clone, Default)]
pub struct ReportBrowser {
    pub status: Option<ReportStatus>,
    pub session_type: Option<SessionType>,
    /// Only reports of the last this many days.
    pub within_days: Option<u32>,
    /// Only this patient's reports: id and name, for the chip.
    pub patient: Option<(Uuid, String)>,
    pub items: Load<Vec<ReportSummary>>,
    pub total: u64,
    pub selected: usize,
    pub preview: Option<Report>,
    pub request: u64,
    pub preview_request: u64,
}

/// Loads the list for the filters as they are now.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    state.reports.request = request;
    state.reports.items = Load::Loading;
    state.reports.preview = None;
    vec![Effect::Call {
        request,
        call: Call::Reports(ReportListParams {
            status: state.reports.status,
            session_type: state.reports.session_type,
            patient_id: state.reports.patient.as_ref().map(|(id, _)| *id),
            date_from: state.reports.within_days.map(|days| {
                (state.wall_now.date_naive() - chrono::Duration::days(i64::from(days) - 1))
                    .to_string()
            }),
            limit: Some(100),
            ..ReportListParams::default()
        }),
    }]
}

/// Asks for the selected report's preview; only the latest answer is shown.
pub(crate) fn preview_selected(state: &mut State) -> Vec<Effect> {
    let Some(id) = state
        .reports
        .items
        .ready()
        .and_then(|items| items.get(state.reports.selected))
        .map(|r| r.id)
    else {
        return Vec::new();
    };
    let request = state.request();
    state.reports.preview_request = request;
    vec![Effect::Call {
        request,
        call: Call::ReportPreview(id),
    }]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    let len = state.reports.items.ready().map_or(0, Vec::len);
    if is_motion(command) {
        let before = state.reports.selected;
        state.reports.selected = moved(before, len, command, page);
        if state.reports.selected != before || state.reports.preview.is_none() {
            return preview_selected(state);
        }
        return Vec::new();
    }
    match command {
        Command::Open => {
            let Some(items) = state.reports.items.ready() else {
                return Vec::new();
            };
            let Some(selected) = items.get(state.reports.selected) else {
                return Vec::new();
            };
            let id = selected.id;
            let siblings = items.iter().map(|r| r.id).collect();
            super::report::open(state, id, siblings)
        }
        Command::CycleSessionType => {
            let all = SessionType::ALL;
            state.reports.session_type = match state.reports.session_type {
                None => Some(all[0]),
                Some(current) => all
                    .iter()
                    .position(|t| *t == current)
                    .and_then(|i| all.get(i + 1))
                    .copied(),
            };
            state.reports.selected = 0;
            load(state)
        }
        Command::CycleDateRange => {
            state.reports.within_days = match state.reports.within_days {
                None => Some(7),
                Some(7) => Some(30),
                Some(30) => Some(90),
                Some(90) => Some(365),
                Some(_) => None,
            };
            state.reports.selected = 0;
            load(state)
        }
        Command::ClearFilters => {
            let reports = &mut state.reports;
            reports.status = None;
            reports.session_type = None;
            reports.within_days = None;
            reports.patient = None;
            reports.selected = 0;
            load(state)
        }
        Command::CycleStatus => {
            use ReportStatus::*;
            state.reports.status = match state.reports.status {
                None => Some(Completed),
                Some(Completed) => Some(Signed),
                Some(Signed) => Some(Pending),
                Some(Pending) => Some(Generating),
                Some(Generating) => Some(Failed),
                Some(Failed) => None,
            };
            state.reports.selected = 0;
            load(state)
        }
        _ => Vec::new(),
    }
}

/// The list; an answer to an older request (the filters changed since) is dropped.
pub(crate) fn on_list(
    state: &mut State,
    request: u64,
    result: Result<ReportPage, ApiError>,
) -> Vec<Effect> {
    if request != state.reports.request {
        return Vec::new();
    }
    match result {
        Ok(page) => {
            state.reports.total = page.pagination.total;
            state.reports.items = Load::Ready(page.items);
            state.reports.selected = 0;
            preview_selected(state)
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.reports.items = Load::Failed(error.message);
            Vec::new()
        }
    }
}

pub(crate) fn on_preview(
    state: &mut State,
    request: u64,
    result: Result<Report, ApiError>,
) -> Vec<Effect> {
    if request == state.reports.preview_request
        && let Ok(report) = result
    {
        state.reports.preview = Some(report);
    }
    Vec::new()
}

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
        spans.push(chip(format!("patient: {}", name(state, patient))));
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
            Paragraph::new(
                std::iter::once(patient_line(state, report))
                    .chain(report_lines(state, report))
                    .collect::<Vec<_>>(),
            )
            .wrap(Wrap { trim: false })
            .block(preview_block),
            preview,
        ),
        None => frame.render_widget(preview_block, preview),
    }
}

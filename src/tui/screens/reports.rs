//! The report browser: the filters as chips, the list across the doctor's patients, and a
//! preview of the selected report. It is also the worklist of drafts awaiting signature (the
//! doctor's completed, unsigned reports, all dates), which the status bar's count opens.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};
use uuid::Uuid;

use super::is_motion;
use super::paged::{Paged, stop_key};
use super::report::{patient_line, report_lines};
use crate::client::ApiError;
use crate::model::consultation::SessionType;
use crate::model::query::ReportListParams;
use crate::model::report::{Report, ReportPage, ReportStatus, ReportSummary};
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::layout::{self, ReportBrowserAreas, table_rows};
use crate::tui::state::State;
use crate::tui::ui::common::{name, notice};
use crate::tui::update::handle_error;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::Open,
    Command::CycleStatus,
    Command::Search,
    Command::Back,
];

/// The commands this screen handles.
pub const COMMANDS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::PageUp,
    Command::PageDown,
    Command::Top,
    Command::Bottom,
    Command::Open,
    Command::CycleStatus,
    Command::CycleSessionType,
    Command::CycleDateRange,
    Command::ClearFilters,
];

/// Rows fetched per page of the report list.
pub const PAGE_SIZE: u32 = 50;

/// The report browser: filters and the list with a preview.
#[derive(Debug, Clone, Default)]
pub struct ReportBrowser {
    pub status: Option<ReportStatus>,
    pub session_type: Option<SessionType>,
    /// Only reports of the last this many days.
    pub within_days: Option<u32>,
    /// Only this patient's reports: id and name, for the chip.
    pub patient: Option<(Uuid, String)>,
    /// The reports, paged from the server with cursors like the patient list.
    pub rows: Paged<ReportSummary>,
    pub preview: Option<Report>,
    pub preview_request: u64,
    /// The report whose preview was asked last, so it is asked once.
    pub previewing: Option<Uuid>,
    /// The worklist of drafts awaiting signature: the completed reports, no other filter.
    /// Changing a filter turns the browser back into the full list.
    pub drafts: bool,
}

/// The worklist's title, also its name in help and the palette.
pub const DRAFTS_TITLE: &str = "Drafts awaiting signature";

/// Opens the drafts awaiting signature: the same reports the status bar counts as unsigned.
pub(crate) fn open_drafts(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    let reports = &mut state.reports;
    reports.status = Some(ReportStatus::Completed);
    reports.session_type = None;
    reports.within_days = None;
    reports.patient = None;
    reports.drafts = true;
    state.go(crate::tui::state::Screen::Reports);
    load(state)
}

/// Leaves the worklist of drafts for the full list (its status filter goes with it).
pub(crate) fn leave_drafts(state: &mut State) {
    if std::mem::take(&mut state.reports.drafts) {
        state.reports.status = None;
    }
}

/// The list's query for the filters as they are now.
fn params(state: &State, cursor: Option<String>, limit: u32) -> ReportListParams {
    let reports = &state.reports;
    ReportListParams {
        status: reports.status,
        session_type: reports.session_type,
        patient_id: reports.patient.as_ref().map(|(id, _)| *id),
        date_from: reports.within_days.map(|days| {
            (state.wall_now.date_naive() - chrono::Duration::days(i64::from(days) - 1)).to_string()
        }),
        limit: Some(limit),
        cursor,
        ..ReportListParams::default()
    }
}

/// Loads the list for the filters as they are now, from its first row.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    state.reports.rows.restart_empty(request);
    state.reports.preview = None;
    state.reports.previewing = None;
    vec![Effect::Call {
        request,
        call: Call::Reports(params(state, None, PAGE_SIZE)),
    }]
}

/// Loads the list again because something changed on the server: the rows shown stay until
/// the answer comes, the place in the list and the selected row are kept, and the selected
/// report's preview is asked again.
pub(crate) fn reload(state: &mut State) -> Vec<Effect> {
    let request = state.request();
    let limit = state.reports.rows.reload(request, PAGE_SIZE);
    state.reports.previewing = None;
    vec![Effect::Call {
        request,
        call: Call::Reports(params(state, None, limit)),
    }]
}

/// Loads the next page when the selection nears the end of what is loaded, or while `G`
/// walks to the last row.
fn prefetch(state: &mut State) -> Vec<Effect> {
    let Some(next) = state.reports.rows.next_page() else {
        return Vec::new();
    };
    let request = state.request();
    state.reports.rows.asked(request);
    let limit = next.limit(PAGE_SIZE);
    vec![Effect::Call {
        request,
        call: Call::Reports(params(state, Some(next.cursor), limit)),
    }]
}

/// Asks for the selected report's preview; only the latest answer is shown.
pub(crate) fn preview_selected(state: &mut State) -> Vec<Effect> {
    let Some(id) = state
        .reports
        .rows
        .items
        .get(state.reports.rows.selected)
        .map(|r| r.id)
    else {
        return Vec::new();
    };
    if state.reports.previewing == Some(id) {
        return Vec::new();
    }
    let request = state.request();
    state.reports.preview_request = request;
    state.reports.previewing = Some(id);
    vec![Effect::Call {
        request,
        call: Call::ReportPreview(id),
    }]
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    if is_motion(command) {
        let visible = layout::report_list_rows(state);
        state.reports.rows.motion(command, page, visible);
        let mut effects = prefetch(state);
        // While walking to the last row the preview waits for the row the walk ends on.
        if !state.reports.rows.jumping() {
            effects.extend(preview_selected(state));
        }
        return effects;
    }
    if matches!(
        command,
        Command::CycleSessionType
            | Command::CycleDateRange
            | Command::ClearFilters
            | Command::CycleStatus
    ) {
        state.reports.drafts = false;
    }
    match command {
        Command::Open => {
            let rows = &state.reports.rows;
            let Some(selected) = rows.items.get(rows.selected) else {
                return Vec::new();
            };
            let id = selected.id;
            let siblings = rows.items.iter().map(|r| r.id).collect();
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
            load(state)
        }
        Command::ClearFilters => {
            let reports = &mut state.reports;
            reports.status = None;
            reports.session_type = None;
            reports.within_days = None;
            reports.patient = None;
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
            load(state)
        }
        _ => Vec::new(),
    }
}

/// A page of the list; an answer to an older request (the filters changed since) is dropped.
pub(crate) fn on_list(
    state: &mut State,
    request: u64,
    result: Result<ReportPage, ApiError>,
) -> Vec<Effect> {
    if request != state.reports.rows.request {
        return Vec::new();
    }
    match result {
        Ok(page) => {
            // The worklist's first page counts what the status bar counts: keep them equal.
            if state.reports.drafts && state.reports.rows.items.is_empty() {
                state.unsigned = Some(page.pagination.total);
            }
            let visible = layout::report_list_rows(state);
            let rows = &mut state.reports.rows;
            let selected = rows.selected_item().map(|r| r.id);
            let replaced = rows.on_page(page.items, page.pagination, visible);
            if let Some(id) = selected.filter(|_| replaced) {
                rows.reselect(|r| r.id == id, visible);
            }
            let mut effects = prefetch(state);
            if !state.reports.rows.jumping() {
                effects.extend(preview_selected(state));
            }
            effects
        }
        Err(error) => {
            state.reports.rows.failed();
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.reports.rows.error = Some(error.message);
            Vec::new()
        }
    }
}

pub(crate) fn on_preview(
    state: &mut State,
    request: u64,
    result: Result<Report, ApiError>,
) -> Vec<Effect> {
    if request != state.reports.preview_request {
        return Vec::new();
    }
    match result {
        Ok(report) => state.reports.preview = Some(report),
        // Asked again when the row is selected again.
        Err(_) => state.reports.previewing = None,
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let browser = &state.reports;
    let ReportBrowserAreas {
        chips,
        list,
        preview,
    } = ReportBrowserAreas::new(area);
    // Each filter is a chip; its key changes it, `x` clears them all.
    let chip = |label: String| Span::styled(format!(" {label} "), theme.bar());
    let spans = if browser.drafts {
        vec![
            Span::raw(" "),
            chip("completed, not yet signed · all dates".to_string()),
            Span::styled("  a filter key or x shows all reports", theme.muted()),
        ]
    } else {
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
        spans
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), chips);
    let rows = &browser.rows;
    let block = Block::bordered().title(Line::styled(
        format!(
            " {} · {}{} ",
            if browser.drafts {
                DRAFTS_TITLE
            } else {
                "Reports"
            },
            rows.counts(),
            rows.activity(&stop_key(state))
        ),
        theme.title(),
    ));
    let inner = block.inner(list);
    match (
        &rows.error,
        rows.items.is_empty(),
        rows.loading || !rows.loaded_once,
    ) {
        (Some(error), true, _) => {
            frame.render_widget(block, list);
            notice(frame, inner, state, error, true);
        }
        (None, true, true) => {
            frame.render_widget(block, list);
            notice(frame, inner, state, "Loading reports…", false);
        }
        (None, true, false) => {
            frame.render_widget(block, list);
            let empty = if browser.drafts {
                "No drafts are waiting for your signature."
            } else {
                "No reports match these filters."
            };
            notice(frame, inner, state, empty, false);
        }
        (_, false, _) => {
            // Narrow lists drop the type, then the MRN (both are in the preview) rather than
            // cutting the status words and dates.
            let width = list.width.saturating_sub(2);
            let with_mrn = width >= 45;
            let with_type = width >= 58;
            // Only the visible window becomes table rows.
            let visible = usize::from(table_rows(list).height).max(1);
            let offset = rows.offset.min(rows.items.len().saturating_sub(1));
            let lines = rows.items.iter().skip(offset).take(visible).map(|r| {
                // In the worklist every row is a draft awaiting signature: it says so.
                let status = if browser.drafts && r.status == ReportStatus::Completed {
                    "to sign"
                } else {
                    r.status.as_str()
                };
                let mut cells = vec![
                    Cell::from(r.created_at.format("%Y-%m-%d").to_string()),
                    Cell::from(Span::styled(status, theme.status(r.status))),
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
            let table = Table::new(lines, widths)
                .header(Row::new(header).style(theme.muted()))
                .row_highlight_style(theme.selected())
                .block(block);
            let mut table_state =
                TableState::default().with_selected(Some(rows.selected.saturating_sub(offset)));
            frame.render_stateful_widget(table, list, &mut table_state);
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

//! The administrator's audit browser: the audit trail newest first, filtered by account,
//! patient, action, outcome and date range, a page at a time. Pages follow the server's
//! cursors: the next page starts after the last row shown, so rows written while the
//! administrator reads (each page read writes one) never shift a row onto the next page; the
//! cursors of the pages before are kept to go back. A row opens its details; the filtered rows
//! export to a file as JSON lines.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};
use uuid::Uuid;

use super::{is_motion, moved};
use crate::client::ApiError;
use crate::model::admin::AuditEvent;
use crate::model::page::Page;
use crate::model::query::AuditParams;
use crate::model::text::printable;
use crate::tui::components::dialogs::Dialog;
use crate::tui::effect::{Call, Effect};
use crate::tui::keymap::Command;
use crate::tui::state::{Load, Screen, State, ToastKind};
use crate::tui::ui::common::loaded_rows;
use crate::tui::update::{call, handle_error};

/// Rows per page.
pub const PAGE_SIZE: u32 = 50;

/// The commands the key-hint bar offers here.
pub const HINTS: &[Command] = &[
    Command::Open,
    Command::FilterRows,
    Command::ClearFilters,
    Command::NextPage,
    Command::PreviousPage,
    Command::ExportRows,
    Command::GoUsers,
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
    Command::FilterRows,
    Command::ClearFilters,
    Command::NextPage,
    Command::PreviousPage,
    Command::ExportRows,
    Command::GoUsers,
    Command::GoAudit,
];

/// What the rows are filtered by; `None` keeps every row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub user_id: Option<Uuid>,
    /// How the administrator named the account (its email, or the id typed).
    pub user: Option<String>,
    pub patient_id: Option<Uuid>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// A date or an RFC 3339 time, as the server takes them.
    pub since: Option<String>,
    pub until: Option<String>,
}

impl AuditFilter {
    /// The query of the page that starts after `cursor` (the first page without one).
    pub fn params(&self, cursor: Option<&str>, limit: u32) -> AuditParams {
        AuditParams {
            user_id: self.user_id,
            patient_id: self.patient_id,
            action: self.action.clone(),
            outcome: self.outcome.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            limit: Some(limit),
            offset: None,
            cursor: cursor.map(str::to_string),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == AuditFilter::default()
    }

    /// The filter in words, for the line above the rows.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(user) = &self.user {
            parts.push(format!("user {}", printable(user, true)));
        }
        if let Some(patient) = self.patient_id {
            parts.push(format!("patient {patient}"));
        }
        if let Some(action) = &self.action {
            parts.push(format!("action {}", printable(action, true)));
        }
        if let Some(outcome) = &self.outcome {
            parts.push(format!("outcome {}", printable(outcome, true)));
        }
        if let Some(since) = &self.since {
            parts.push(format!("since {}", printable(since, true)));
        }
        if let Some(until) = &self.until {
            parts.push(format!("until {}", printable(until, true)));
        }
        parts.join(" · ")
    }
}

/// The page shown, its filter and selection.
#[derive(Debug, Clone, Default)]
pub struct AuditBrowser {
    pub rows: Load<Page<AuditEvent>>,
    pub filter: AuditFilter,
    /// The cursor the page shown starts after; `None` for the first page.
    pub cursor: Option<String>,
    /// The cursors of the pages before it, the nearest last: previous page pops one.
    pub back: Vec<Option<String>>,
    pub selected: usize,
    /// The request whose answer is awaited; older answers are dropped.
    pub request: u64,
}

/// Opens the browser on its first page (the filter stays as it was).
pub(crate) fn open(state: &mut State) -> Vec<Effect> {
    state.overlay = None;
    state.go(Screen::Audit);
    first_page(state);
    load(state)
}

/// Asks for the page at the current offset; the rows shown stay until the answer comes.
pub(crate) fn load(state: &mut State) -> Vec<Effect> {
    if state.audit.rows.ready().is_none() {
        state.audit.rows = Load::Loading;
    }
    let params = state
        .audit
        .filter
        .params(state.audit.cursor.as_deref(), PAGE_SIZE);
    let effect = call(state, Call::Audit(params));
    if let Effect::Call { request, .. } = &effect {
        state.audit.request = *request;
    }
    vec![effect]
}

/// Shows the first page of what `filter` keeps.
pub(crate) fn apply(state: &mut State, filter: AuditFilter) -> Vec<Effect> {
    state.audit.filter = filter;
    first_page(state);
    load(state)
}

fn first_page(state: &mut State) {
    state.audit.cursor = None;
    state.audit.back.clear();
    state.audit.selected = 0;
}

fn rows(state: &State) -> &[AuditEvent] {
    state
        .audit
        .rows
        .ready()
        .map(|page| page.items.as_slice())
        .unwrap_or_default()
}

pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    if is_motion(command) {
        state.audit.selected = moved(state.audit.selected, rows(state).len(), command, page);
        return Vec::new();
    }
    match command {
        Command::Open => {
            if let Some(event) = rows(state).get(state.audit.selected) {
                state.dialog = Some(Dialog::AuditDetails(Box::new(event.clone())));
            }
            Vec::new()
        }
        Command::FilterRows => {
            state.dialog = Some(Dialog::audit_filter(&state.audit.filter));
            Vec::new()
        }
        Command::ClearFilters => apply(state, AuditFilter::default()),
        Command::NextPage => {
            let next = state
                .audit
                .rows
                .ready()
                .filter(|p| p.pagination.has_more)
                .and_then(|p| p.pagination.next_cursor.clone());
            let Some(next) = next else {
                return Vec::new();
            };
            let shown = state.audit.cursor.replace(next);
            state.audit.back.push(shown);
            state.audit.selected = 0;
            load(state)
        }
        Command::PreviousPage => {
            let Some(before) = state.audit.back.pop() else {
                return Vec::new();
            };
            state.audit.cursor = before;
            state.audit.selected = 0;
            load(state)
        }
        Command::ExportRows => {
            let path = state.settings.export_dir.join(format!(
                "audit-{}.jsonl",
                state.wall_now.format("%Y%m%d-%H%M%S")
            ));
            state.dialog = Some(Dialog::export_audit(&path.display().to_string()));
            Vec::new()
        }
        Command::GoUsers => super::users::open(state),
        _ => Vec::new(),
    }
}

/// A page's answer. An answer to an older request is dropped; a refused filter (a date the
/// server cannot read) shows the server's words where the rows go.
pub(crate) fn on_page(
    state: &mut State,
    request: u64,
    result: Result<Page<AuditEvent>, ApiError>,
) -> Vec<Effect> {
    if request != state.audit.request {
        return Vec::new();
    }
    match result {
        Ok(page) => {
            state.audit.selected = state.audit.selected.min(page.items.len().saturating_sub(1));
            state.audit.rows = Load::Ready(page);
        }
        Err(error) => {
            if let Some(effects) = handle_error(state, &error) {
                return effects;
            }
            state.audit.rows = Load::Failed(format!(
                "{} (f changes the filter, x clears it)",
                error.message
            ));
        }
    }
    Vec::new()
}

/// The export's outcome: where the rows went and how many, or why none did.
pub(crate) fn on_exported(state: &mut State, result: Result<(String, u64), String>) -> Vec<Effect> {
    match result {
        Ok((path, count)) => {
            if matches!(state.dialog, Some(Dialog::ExportAudit { .. })) {
                state.dialog = None;
            }
            let rows = if count == 1 { "row" } else { "rows" };
            state.toast(
                format!("Wrote {count} audit {rows} to {path}"),
                ToastKind::Info,
            );
        }
        Err(error) => match &mut state.dialog {
            Some(Dialog::ExportAudit {
                error: shown, busy, ..
            }) => {
                *busy = false;
                *shown = Some(error);
            }
            _ => state.toast(error, ToastKind::Error),
        },
    }
    Vec::new()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    let theme = &state.settings.theme;
    let audit = &state.audit;
    let [filter_area, list_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let filter = if audit.filter.is_empty() {
        Span::styled(" No filter: every row", theme.muted())
    } else {
        Span::styled(
            format!(" Filter: {}", audit.filter.describe()),
            theme.base(),
        )
    };
    frame.render_widget(Paragraph::new(Line::from(filter)), filter_area);
    let count = match audit.rows.ready() {
        Some(page) if page.items.is_empty() => " · 0".to_string(),
        Some(page) => format!(
            " · {}–{} of {}",
            page.pagination.offset + 1,
            page.pagination.offset + page.items.len() as u64,
            page.pagination.total
        ),
        None => String::new(),
    };
    let block =
        Block::bordered().title(Line::styled(format!(" Audit trail{count} "), theme.title()));
    let empty = if audit.filter.is_empty() {
        "The audit trail is empty."
    } else {
        "No audit row matches the filter."
    };
    let rows = match &audit.rows {
        Load::Ready(page) => Load::Ready(page.items.clone()),
        Load::Failed(error) => Load::Failed(error.clone()),
        Load::Loading => Load::Loading,
        Load::Idle => Load::Idle,
    };
    let Some(rows) = loaded_rows(
        frame,
        list_area,
        state,
        &block,
        &rows,
        (empty, "Loading the audit trail…"),
    ) else {
        return;
    };
    let wide = area.width >= 100;
    let lines = rows.iter().map(|event| {
        let outcome_style = if event.outcome == "success" {
            theme.base()
        } else {
            theme.warning()
        };
        let mut cells = vec![
            Cell::from(event.at.format("%Y-%m-%d %H:%M:%S").to_string()),
            Cell::from(printable(&event.action, true)),
            Cell::from(Span::styled(printable(&event.outcome, true), outcome_style)),
            Cell::from(user_label(state, event.user_id)),
        ];
        if wide {
            cells.push(Cell::from(
                event
                    .patient_id
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
            ));
        }
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Length(19),
        Constraint::Min(18),
        Constraint::Length(10),
        Constraint::Min(16),
    ];
    let mut header = vec!["At (UTC)", "Action", "Outcome", "User"];
    if wide {
        widths.push(Constraint::Length(36));
        header.push("Patient");
    }
    let table = Table::new(lines, widths)
        .header(Row::new(header).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(block);
    let mut table_state = TableState::default().with_selected(Some(audit.selected));
    frame.render_stateful_widget(table, list_area, &mut table_state);
}

/// An account as the rows name it: its email when the users screen has it, else its id; a
/// row made at the console has none.
pub fn user_label(state: &State, user_id: Option<Uuid>) -> String {
    match user_id {
        None => "(console)".into(),
        Some(id) => super::users::email_of(state, id)
            .map(|email| printable(&email, true))
            .unwrap_or_else(|| id.to_string()),
    }
}

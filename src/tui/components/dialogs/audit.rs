//! The audit browser's dialogs: the filter (account, patient, action, outcome, date range),
//! one row's details, and the export of the filtered rows to a file.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};
use uuid::Uuid;

use super::{Dialog, Step, View};
use crate::model::admin::AuditEvent;
use crate::model::text::printable;
use crate::tui::effect::Call;
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::screens::audit::{self, AuditFilter, user_label};
use crate::tui::state::{Load, State};
use crate::tui::update::call;

/// The filter's fields, in the order Tab moves through them.
pub const FILTER_FIELDS: [&str; 6] = ["User", "Patient id", "Action", "Outcome", "Since", "Until"];

/// The filter being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterDialog {
    pub fields: [Field; 6],
    pub focus: usize,
    /// Which field was refused, and why.
    pub error: Option<(usize, String)>,
}

impl Dialog {
    /// The filter dialog, its fields holding `filter`.
    pub fn audit_filter(filter: &AuditFilter) -> Dialog {
        let text = |value: &Option<String>| Field::with(value.as_deref().unwrap_or_default());
        Dialog::AuditFilter(FilterDialog {
            fields: [
                text(&filter.user),
                Field::with(
                    &filter
                        .patient_id
                        .map(|id| id.to_string())
                        .unwrap_or_default(),
                ),
                text(&filter.action),
                text(&filter.outcome),
                text(&filter.since),
                text(&filter.until),
            ],
            focus: 0,
            error: None,
        })
    }

    /// The export dialog, offering `path`.
    pub fn export_audit(path: &str) -> Dialog {
        // Selected: typing a path of one's own replaces the one offered.
        let mut field = Field::with(path);
        field.select_all();
        Dialog::ExportAudit {
            path: field,
            error: None,
            busy: false,
        }
    }
}

/// The filter the fields say, or the field that cannot be read and why.
pub fn read_filter(state: &State, fields: &[Field; 6]) -> Result<AuditFilter, (usize, String)> {
    let text = |n: usize| {
        let value = fields[n].value.trim();
        (!value.is_empty()).then(|| value.to_string())
    };
    let user = text(0);
    let user_id = match &user {
        None => None,
        Some(typed) => Some(account_id(state, typed).ok_or_else(|| {
            (
                0,
                "No account has this email: type an email from the users screen or an account id."
                    .to_string(),
            )
        })?),
    };
    let patient_id = match text(1) {
        None => None,
        Some(typed) => Some(Uuid::parse_str(&typed).map_err(|_| {
            (
                1,
                "A patient id is a UUID, as the rows show it (leave it empty for every patient)."
                    .to_string(),
            )
        })?),
    };
    Ok(AuditFilter {
        user_id,
        user,
        patient_id,
        action: text(2),
        outcome: text(3),
        since: text(4),
        until: text(5),
    })
}

/// The account an administrator names by id or by email (any case, from the users screen).
fn account_id(state: &State, typed: &str) -> Option<Uuid> {
    if let Ok(id) = Uuid::parse_str(typed) {
        return Some(id);
    }
    let rows = match &state.users.rows {
        Load::Ready(rows) => rows,
        _ => return None,
    };
    rows.iter()
        .find(|u| u.email.eq_ignore_ascii_case(typed))
        .map(|u| u.id)
}

pub(super) fn filter_key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::AuditFilter(filter) = dialog else {
        return Step::Close(Vec::new());
    };
    let count = FILTER_FIELDS.len();
    match (state.settings.keymap.command(key, Scope::Dialog), key.code) {
        (Some(Command::Dismiss), _) => Step::Close(Vec::new()),
        (_, KeyCode::Tab | KeyCode::Down) => {
            filter.focus = (filter.focus + 1) % count;
            Step::Stay(Vec::new())
        }
        (_, KeyCode::BackTab | KeyCode::Up) => {
            filter.focus = (filter.focus + count - 1) % count;
            Step::Stay(Vec::new())
        }
        (Some(Command::Submit), _) => match read_filter(state, &filter.fields) {
            Ok(read) => Step::Close(audit::apply(state, read)),
            Err((field, message)) => {
                filter.focus = field;
                filter.error = Some((field, message));
                Step::Stay(Vec::new())
            }
        },
        _ => {
            if filter.fields[filter.focus].edit(key) {
                filter.error = None;
            }
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn filter_paste(filter: &mut FilterDialog, text: &str) {
    filter.fields[filter.focus].insert(text);
}

pub(super) fn filter_view(state: &State, filter: &FilterDialog) -> View {
    let theme = &state.settings.theme;
    let mut lines = vec![
        Line::raw("Rows that match every field filled in (empty keeps all):"),
        Line::raw(""),
    ];
    for (n, label) in FILTER_FIELDS.iter().enumerate() {
        let style = if n == filter.focus {
            theme.selected()
        } else {
            theme.base()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{label:>10} ")),
            Span::styled(format!(" {:<40}", filter.fields[n].value), style),
        ]));
    }
    lines.push(Line::raw(""));
    match &filter.error {
        Some((field, message)) => lines.push(Line::styled(
            format!("{}: {message}", FILTER_FIELDS[*field]),
            theme.error(),
        )),
        None => lines.push(Line::styled(
            "User: an email or id · Since/Until: 2026-01-31 or an RFC 3339 time",
            theme.muted(),
        )),
    }
    lines.push(Line::styled(
        "Enter applies · Tab the next field · Esc leaves the filter as it was",
        theme.muted(),
    ));
    let field = &filter.fields[filter.focus];
    let column = 12 + field.cursor as u16;
    View {
        title: " Filter the audit trail ",
        height: lines.len() as u16 + 2,
        cursor: Some((2 + filter.focus, column)),
        lines,
    }
}

/// Any key closes the details.
pub(super) fn details_key() -> Step {
    Step::Close(Vec::new())
}

pub(super) fn details_view(state: &State, event: &AuditEvent) -> View {
    let theme = &state.settings.theme;
    let optional = |value: &Option<String>| {
        value
            .as_deref()
            .map(|v| printable(v, true))
            .unwrap_or_else(|| "—".into())
    };
    let row = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{label:>13} "), theme.muted()),
            Span::raw(value),
        ])
    };
    let lines = vec![
        row(
            "At",
            event.at.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        ),
        row("Action", printable(&event.action, true)),
        row("Outcome", printable(&event.outcome, true)),
        row("User", user_label(state, event.user_id)),
        row(
            "User id",
            event.user_id.map(|id| id.to_string()).unwrap_or("—".into()),
        ),
        row("Resource", optional(&event.resource_type)),
        row("Resource id", optional(&event.resource_id)),
        row(
            "Patient id",
            event
                .patient_id
                .map(|id| id.to_string())
                .unwrap_or("—".into()),
        ),
        row("Request id", printable(&event.request_id, true)),
        row("Address", optional(&event.ip)),
        row("Row id", event.id.to_string()),
        Line::raw(""),
        Line::styled("Any key closes", theme.muted()),
    ];
    View {
        title: " Audit row ",
        height: lines.len() as u16 + 2,
        lines,
        cursor: None,
    }
}

pub(super) fn export_key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::ExportAudit { path, error, busy } = dialog else {
        return Step::Close(Vec::new());
    };
    if *busy {
        return Step::Stay(Vec::new());
    }
    match state.settings.keymap.command(key, Scope::Dialog) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::Submit) => {
            let typed = path.value.trim();
            if typed.is_empty() {
                *error = Some("Type the path of the file to write.".into());
                return Step::Stay(Vec::new());
            }
            *busy = true;
            *error = None;
            let params = state
                .audit
                .filter
                .params(None, crate::model::page::MAX_LIMIT);
            let path = PathBuf::from(typed);
            Step::Stay(vec![call(state, Call::ExportAudit { params, path })])
        }
        _ => {
            if path.edit(key) {
                *error = None;
            }
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn export_view(state: &State, path: &Field, error: Option<&str>, busy: bool) -> View {
    let theme = &state.settings.theme;
    let filter = if state.audit.filter.is_empty() {
        "every row of the audit trail"
    } else {
        "the rows the filter keeps"
    };
    let mut lines = vec![
        Line::raw(format!(
            "Writes {filter} as JSON lines (ids only, no patient data)."
        )),
        Line::raw(""),
        Line::raw("File"),
        Line::styled(path.value.clone(), theme.selected()),
        Line::raw(""),
    ];
    if busy {
        lines.push(Line::styled("Writing…", theme.muted()));
    } else if let Some(error) = error {
        lines.push(Line::styled(printable(error, true), theme.error()));
    } else {
        lines.push(Line::styled(
            "Enter writes it · Esc leaves without writing",
            theme.muted(),
        ));
    }
    let column = path.cursor as u16;
    View {
        title: " Export the audit rows ",
        height: lines.len() as u16 + 2,
        lines,
        cursor: (!busy).then_some((3, column)),
    }
}

//! Starting a consultation: the session type (a choice) and the chief complaint (a field).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::text::{Line, Span};

use super::{Dialog, Step, View};
use crate::model::consultation::{SessionType, StartConsultation};
use crate::tui::effect::Call;
use crate::tui::input::Field;
use crate::tui::keymap::{Command, Scope};
use crate::tui::state::State;
use crate::tui::update::call;

fn next_session_type(current: SessionType, forward: bool) -> SessionType {
    let all = SessionType::ALL;
    let i = all.iter().position(|t| *t == current).unwrap_or(0);
    let len = all.len();
    all[if forward {
        (i + 1) % len
    } else {
        (i + len - 1) % len
    }]
}

pub(super) fn key(state: &mut State, dialog: &mut Dialog, key: &KeyEvent) -> Step {
    let Dialog::StartConsultation {
        session_type,
        complaint,
    } = dialog
    else {
        return Step::Stay(Vec::new());
    };
    match state.settings.keymap.command(key, Scope::StartDialog) {
        Some(Command::Dismiss) => Step::Close(Vec::new()),
        Some(Command::NextChoice) => {
            *session_type = next_session_type(*session_type, true);
            Step::Stay(Vec::new())
        }
        // On an empty complaint → chooses the type too.
        None if key.code == KeyCode::Right && complaint.value.is_empty() => {
            *session_type = next_session_type(*session_type, true);
            Step::Stay(Vec::new())
        }
        Some(Command::PreviousChoice) => {
            *session_type = next_session_type(*session_type, false);
            Step::Stay(Vec::new())
        }
        Some(Command::Submit) => {
            let Some(patient_id) = state.chart.patient_id else {
                return Step::Close(Vec::new());
            };
            let chief_complaint =
                Some(complaint.value.trim().to_string()).filter(|c| !c.is_empty());
            let effect = call(
                state,
                Call::Start(StartConsultation {
                    patient_id,
                    session_type: *session_type,
                    chief_complaint,
                }),
            );
            Step::Close(vec![effect])
        }
        _ => {
            complaint.edit(key);
            Step::Stay(Vec::new())
        }
    }
}

pub(super) fn view(state: &State, session_type: SessionType, complaint: &Field) -> View {
    let theme = &state.settings.theme;
    let key = |command| state.settings.keymap.hint_key(command, Scope::StartDialog);
    View {
        title: " Start a consultation ",
        lines: vec![
            Line::from(vec![
                Span::raw("Type       "),
                Span::styled(format!(" ◀ {} ▶ ", session_type.as_str()), theme.selected()),
            ]),
            Line::styled(
                format!("           {} changes the type", key(Command::NextChoice)),
                theme.muted(),
            ),
            Line::raw(""),
            Line::from(vec![
                Span::raw("Complaint  "),
                Span::styled(format!(" {:<40}", complaint.value), theme.selected()),
            ]),
            Line::raw(""),
            Line::styled(
                format!(
                    "{} starts · {} cancels",
                    key(Command::Submit),
                    key(Command::Dismiss)
                ),
                theme.muted(),
            ),
        ],
        height: 8,
        cursor: Some((3, 12 + complaint.cursor as u16)),
    }
}

//! Modal dialogs: a dialog takes every key until it closes and is drawn above everything but
//! the lock screen. Each dialog's keys and lines are in its own module; this one holds the
//! `Dialog` type, hands keys and pastes to the open dialog, and draws its box.

mod addendum;
mod cancel_consultation;
mod edit_report;
mod session_expired;
mod sign;
mod start_consultation;

pub use edit_report::Section;
pub(crate) use sign::on_signed;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use uuid::Uuid;

use crate::model::consultation::SessionType;
use crate::tui::effect::Effect;
use crate::tui::input::{Field, Notes};
use crate::tui::state::State;
use crate::tui::ui::centered;

/// Modal dialogs. A dialog takes every key until it closes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    StartConsultation {
        session_type: SessionType,
        complaint: Field,
    },
    /// Signing: first a confirmation that defaults to No, then the password.
    Sign {
        report_id: Uuid,
        confirmed: bool,
        yes: bool,
        password: Field,
        error: Option<String>,
        busy: bool,
    },
    CancelConsultation {
        reason: Field,
    },
    Addendum {
        report_id: Uuid,
        text: Field,
    },
    /// Editing one text section of a draft; Tab moves to the next section.
    EditReport {
        report_id: Uuid,
        version: u32,
        section: Section,
        editor: Notes,
    },
    /// The session ended: the password continues where the doctor was.
    SessionExpired {
        password: Field,
        error: Option<String>,
        busy: bool,
    },
}

/// What a key did to the open dialog.
enum Step {
    /// The dialog stays open.
    Stay(Vec<Effect>),
    /// The dialog closes.
    Close(Vec<Effect>),
}

/// What a dialog draws inside its box.
struct View {
    title: &'static str,
    lines: Vec<Line<'static>>,
    height: u16,
}

/// Hands a key to the open dialog.
pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(mut dialog) = state.dialog.take() else {
        return Vec::new();
    };
    let step = match &dialog {
        Dialog::StartConsultation { .. } => start_consultation::key(state, &mut dialog, key),
        Dialog::Sign { .. } => sign::key(state, &mut dialog, key),
        Dialog::CancelConsultation { .. } => cancel_consultation::key(state, &mut dialog, key),
        Dialog::Addendum { .. } => addendum::key(state, &mut dialog, key),
        Dialog::EditReport { .. } => edit_report::key(state, &mut dialog, key),
        Dialog::SessionExpired { .. } => session_expired::key(state, &mut dialog, key),
    };
    match step {
        Step::Stay(effects) => {
            state.dialog = Some(dialog);
            effects
        }
        Step::Close(effects) => effects,
    }
}

/// A paste goes into the open dialog's field.
pub(crate) fn paste(dialog: &mut Dialog, text: &str) {
    match dialog {
        Dialog::StartConsultation { complaint, .. } => complaint.insert(text),
        Dialog::Sign { password, .. } | Dialog::SessionExpired { password, .. } => {
            password.insert(text)
        }
        Dialog::CancelConsultation { reason } => reason.insert(text),
        Dialog::Addendum { text: field, .. } => field.insert(text),
        Dialog::EditReport { editor, .. } => editor.insert(text),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, dialog: &Dialog) {
    let theme = &state.settings.theme;
    let View {
        title,
        lines,
        height,
    } = match dialog {
        Dialog::StartConsultation {
            session_type,
            complaint,
        } => start_consultation::view(state, *session_type, complaint),
        Dialog::Sign {
            confirmed,
            yes,
            password,
            error,
            busy,
            ..
        } => sign::view(state, *confirmed, *yes, password, error.as_deref(), *busy),
        Dialog::CancelConsultation { reason } => cancel_consultation::view(state, reason),
        Dialog::Addendum { text, .. } => addendum::view(state, text),
        Dialog::EditReport {
            section, editor, ..
        } => edit_report::view(state, area, *section, editor),
        Dialog::SessionExpired {
            password,
            error,
            busy,
        } => session_expired::view(state, password, error.as_deref(), *busy),
    };
    let rect = centered(area, 66, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Line::styled(title, theme.title()))),
        rect,
    );
}

//! Modal dialogs: a dialog takes every key until it closes and is drawn above everything but
//! the lock screen. Each dialog's keys and lines are in its own module; this one holds the
//! `Dialog` type, hands keys and pastes to the open dialog, and draws its box.

mod accounts;
mod addendum;
mod audit;
mod cancel_consultation;
mod edit_report;
pub mod patient_form;
mod session_expired;
mod sign;
mod start_consultation;
mod stop_consultation;

pub use accounts::{AccountAction, NEW_USER_FIELDS, NewUserDialog, ResetDialog};
pub(crate) use accounts::{on_password_reset, on_user_created};
pub(crate) use addendum::on_added;
pub use addendum::{AddendumDialog, AddendumStep};
pub use audit::{FILTER_FIELDS, FilterDialog, read_filter};
pub(crate) use edit_report::on_saved;
pub use edit_report::{EditDialog, EditStep, Section};
pub use patient_form::PatientForm;
pub(crate) use sign::on_signed;
pub use sign::{Changed, SectionChange, SignDialog, changes};

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::model::consultation::SessionType;
use crate::model::report::Report;
use crate::tui::effect::Effect;
use crate::tui::input::Field;
use crate::tui::keymap::Scope;
use crate::tui::state::State;
use crate::tui::ui::centered;
use crate::tui::ui::common::wrapped_rows;

/// How wide a dialog's box is, borders included (narrower terminals get their width).
const DIALOG_WIDTH: u16 = 66;

/// Modal dialogs. A dialog takes every key until it closes.
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    StartConsultation {
        session_type: SessionType,
        complaint: Field,
    },
    /// Signing: first a confirmation that defaults to No, then the password.
    Sign(SignDialog),
    CancelConsultation {
        reason: Field,
        /// Why Enter did not cancel (no reason yet).
        error: Option<String>,
    },
    /// Stopping with empty notes: the report would fail, so it asks first (defaults to no).
    StopWithoutNotes,
    /// An addendum: written, previewed, confirmed, then sent.
    Addendum(AddendumDialog),
    /// Editing a draft, every section; Tab moves to the next section.
    /// Boxed: two copies of a report's content make it the largest dialog by far.
    EditReport(Box<EditDialog>),
    /// The session ended: signing in again continues where the doctor was.
    SessionExpired(crate::tui::components::reauth::Reauth),
    /// A destructive action on an account, named: only an explicit yes does it.
    ConfirmAccount {
        action: AccountAction,
        user_id: uuid::Uuid,
        email: String,
    },
    /// An account's new password, typed twice.
    ResetPassword(ResetDialog),
    /// A new account.
    NewUser(NewUserDialog),
    /// The audit browser's filter.
    AuditFilter(FilterDialog),
    /// One audit row, every field. Boxed: the row is larger than any other dialog's data.
    AuditDetails(Box<crate::model::admin::AuditEvent>),
    /// The file the filtered audit rows are written to.
    ExportAudit {
        path: Field,
        error: Option<String>,
        busy: bool,
    },
    /// Registering a patient or changing one's details. Boxed: it holds a form's fields.
    PatientForm(Box<PatientForm>),
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
    /// Where the terminal cursor goes while the dialog takes text: the index of a line in
    /// `lines` and the column in it. The line must fit the box's width unwrapped (editors cut
    /// their rows to it with `Notes::layout`).
    cursor: Option<(usize, u16)>,
}

/// How many columns a dialog's box holds inside its borders, in `area`.
fn inner_width(area: Rect) -> usize {
    usize::from(DIALOG_WIDTH.min(area.width).saturating_sub(2))
}

/// The report fetched again because a dialog found it changed on the server (signing or
/// saving an edit): that dialog takes it. Returns the report back when no dialog waits for it.
pub(crate) fn on_reloaded(state: &mut State, report: Report) -> Option<Report> {
    sign::on_reloaded(state, report).and_then(|report| edit_report::on_reloaded(state, report))
}

/// The keymap scope whose keys the dialog takes now, for the hint bar.
pub fn scope(dialog: &Dialog) -> Scope {
    match dialog {
        Dialog::StartConsultation { .. } | Dialog::PatientForm(_) => Scope::StartDialog,
        Dialog::Sign(sign) if !sign.confirmed => Scope::SignConfirm,
        Dialog::StopWithoutNotes | Dialog::ConfirmAccount { .. } => Scope::SignConfirm,
        Dialog::ResetPassword(_)
        | Dialog::NewUser(_)
        | Dialog::AuditFilter(_)
        | Dialog::AuditDetails(_)
        | Dialog::ExportAudit { .. } => Scope::Dialog,
        Dialog::Sign(_) | Dialog::CancelConsultation { .. } | Dialog::SessionExpired(_) => {
            Scope::Dialog
        }
        Dialog::Addendum(addendum) => match addendum.step {
            AddendumStep::Writing => Scope::ReportEditor,
            _ => Scope::SignConfirm,
        },
        Dialog::EditReport(edit) => match edit.step {
            EditStep::Editing => Scope::ReportEditor,
            _ => Scope::SignConfirm,
        },
    }
}

/// Hands a key to the open dialog.
pub(crate) fn key(state: &mut State, key: &KeyEvent) -> Vec<Effect> {
    let Some(mut dialog) = state.dialog.take() else {
        return Vec::new();
    };
    let step = match &dialog {
        Dialog::StartConsultation { .. } => start_consultation::key(state, &mut dialog, key),
        Dialog::Sign(_) => sign::key(state, &mut dialog, key),
        Dialog::CancelConsultation { .. } => cancel_consultation::key(state, &mut dialog, key),
        Dialog::StopWithoutNotes => stop_consultation::key(state, key),
        Dialog::Addendum(_) => addendum::key(state, &mut dialog, key),
        Dialog::EditReport(_) => edit_report::key(state, &mut dialog, key),
        Dialog::SessionExpired(_) => session_expired::key(state, &mut dialog, key),
        Dialog::ConfirmAccount { .. } => accounts::confirm_key(state, &dialog, key),
        Dialog::ResetPassword(_) => accounts::reset_key(state, &mut dialog, key),
        Dialog::NewUser(_) => accounts::new_user_key(state, &mut dialog, key),
        Dialog::AuditFilter(_) => audit::filter_key(state, &mut dialog, key),
        Dialog::AuditDetails(_) => audit::details_key(),
        Dialog::ExportAudit { .. } => audit::export_key(state, &mut dialog, key),
        Dialog::PatientForm(_) => patient_form::key(state, &mut dialog, key),
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
        Dialog::Sign(sign) => sign.password.insert(text),
        Dialog::SessionExpired(reauth) => reauth.paste(text),
        Dialog::CancelConsultation { reason, .. } => reason.insert(text),
        Dialog::StopWithoutNotes | Dialog::ConfirmAccount { .. } => {}
        Dialog::ResetPassword(reset) => accounts::reset_paste(reset, text),
        Dialog::NewUser(new) => accounts::new_user_paste(new, text),
        Dialog::AuditFilter(filter) => audit::filter_paste(filter, text),
        Dialog::AuditDetails(_) => {}
        Dialog::ExportAudit { path, .. } => path.insert(text),
        Dialog::PatientForm(form) => patient_form::paste(form, text),
        Dialog::Addendum(addendum) => {
            if addendum.step == AddendumStep::Writing {
                addendum.editor.insert(text)
            }
        }
        Dialog::EditReport(edit) => {
            if edit.step == EditStep::Editing {
                edit.paste(text)
            }
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &State, dialog: &Dialog) {
    let theme = &state.settings.theme;
    let View {
        title,
        lines,
        height,
        cursor,
    } = match dialog {
        Dialog::StartConsultation {
            session_type,
            complaint,
        } => start_consultation::view(state, *session_type, complaint),
        Dialog::Sign(sign) => sign::view(state, sign),
        Dialog::CancelConsultation { reason, error } => {
            cancel_consultation::view(state, reason, error.as_deref())
        }
        Dialog::StopWithoutNotes => stop_consultation::view(state),
        Dialog::Addendum(addendum) => addendum::view(state, area, addendum),
        Dialog::EditReport(edit) => edit_report::view(state, area, edit),
        Dialog::SessionExpired(reauth) => session_expired::view(state, reauth),
        Dialog::ConfirmAccount { action, email, .. } => {
            accounts::confirm_view(state, *action, email)
        }
        Dialog::ResetPassword(reset) => accounts::reset_view(state, reset),
        Dialog::NewUser(new) => accounts::new_user_view(state, new),
        Dialog::AuditFilter(filter) => audit::filter_view(state, filter),
        Dialog::AuditDetails(event) => audit::details_view(state, event),
        Dialog::ExportAudit { path, error, busy } => {
            audit::export_view(state, path, error.as_deref(), *busy)
        }
        Dialog::PatientForm(form) => patient_form::view(state, form),
    };
    // As tall as the wrapped lines need (the view's height is the least), within the area.
    let inner_width = inner_width(area);
    let needed: u16 = lines
        .iter()
        .map(|line| wrapped_rows(&line.to_string(), inner_width))
        .sum::<u16>()
        .saturating_add(2);
    let rect = centered(area, DIALOG_WIDTH, height.max(needed));
    let block = Block::bordered().title(Line::styled(title, theme.title()));
    let inner = block.inner(rect);
    // The cursor's row among the wrapped lines; a box too short to reach it scrolls down to it.
    let cursor = cursor.map(|(line, column)| {
        let row: u16 = lines
            .iter()
            .take(line)
            .map(|line| wrapped_rows(&line.to_string(), inner_width))
            .sum();
        (row, column)
    });
    let scroll = match cursor {
        Some((row, _)) if row >= inner.height => row + 1 - inner.height,
        _ => 0,
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        rect,
    );
    if let Some((row, column)) = cursor
        && inner.width > 0
        && inner.height > 0
    {
        frame.set_cursor_position((
            inner.x + column.min(inner.width - 1),
            inner.y + (row - scroll).min(inner.height - 1),
        ));
    }
}

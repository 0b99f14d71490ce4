//! The workstation's screens, one module each holding the screen's state, its commands, the
//! answers it waits for and its view. `update` dispatches to them; this module says which
//! screen module a screen is.

pub mod chart;
pub mod consultation;
pub mod login;
pub mod paged;
pub mod patients;
pub mod report;
pub mod reports;
pub mod stats;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::effect::Effect;
use super::keymap::{Command, Scope};
use super::state::{Screen, State};
use crate::model::patient::Patient;

/// The keymap scope of a screen's bindings.
pub fn scope(screen: Screen) -> Scope {
    match screen {
        Screen::Patients | Screen::Login => Scope::Patients,
        Screen::Chart => Scope::Chart,
        Screen::Reports => Scope::Reports,
        Screen::Report => Scope::Report,
        Screen::Consultation => Scope::Consultation,
        Screen::Stats => Scope::Stats,
    }
}

/// The patient whose banner the current screen pins at its top, if it is about one patient:
/// dialogs open below it, so who they are about stays in view.
pub fn pinned_patient(state: &State) -> Option<&Patient> {
    match state.screen {
        Screen::Chart => state.chart.patient.ready(),
        Screen::Consultation => state.patient().filter(|p| {
            state
                .consultation
                .consultation
                .as_ref()
                .is_some_and(|c| c.patient_id == p.summary.id)
        }),
        Screen::Report => report::banner(state),
        _ => None,
    }
}

/// The commands the key-hint bar offers on a screen.
pub fn hints(screen: Screen) -> &'static [Command] {
    match screen {
        Screen::Login => &[],
        Screen::Patients => patients::HINTS,
        Screen::Chart => chart::HINTS,
        Screen::Reports => reports::HINTS,
        Screen::Report => report::HINTS,
        Screen::Consultation => consultation::HINTS,
        Screen::Stats => stats::HINTS,
    }
}

/// A command the current screen handles itself (the global ones are `update`'s).
pub(crate) fn command(state: &mut State, command: Command, page: usize) -> Vec<Effect> {
    match state.screen {
        Screen::Patients => patients::command(state, command, page),
        Screen::Chart => chart::command(state, command, page),
        Screen::Reports => reports::command(state, command, page),
        Screen::Report => report::command(state, command, page),
        Screen::Consultation => consultation::command(state, command),
        Screen::Stats => stats::command(state, command),
        Screen::Login => Vec::new(),
    }
}

/// Stops the current list's walk to its last row (`G`/End), if one is under way: Back does
/// that first, and only then goes back.
pub(crate) fn stop_walk(state: &mut State) -> bool {
    match state.screen {
        Screen::Patients => state.patients.rows.stop_jump(),
        Screen::Reports => state.reports.rows.stop_jump(),
        _ => false,
    }
}

/// Loads what the current screen shows again.
pub(crate) fn refresh(state: &mut State) -> Vec<Effect> {
    match state.screen {
        Screen::Patients => patients::load(state),
        Screen::Chart => chart::refresh(state),
        Screen::Reports => reports::load(state),
        Screen::Stats => stats::load(state),
        Screen::Report => report::refresh(state),
        Screen::Login | Screen::Consultation => Vec::new(),
    }
}

/// Draws the current screen into its area of the frame.
pub fn draw(frame: &mut Frame, area: Rect, state: &State) {
    match state.screen {
        Screen::Login => login::draw(frame, area, state),
        Screen::Patients => patients::draw(frame, area, state),
        Screen::Chart => chart::draw(frame, area, state),
        Screen::Reports => reports::draw(frame, area, state),
        Screen::Report => report::draw(frame, area, state),
        Screen::Consultation => consultation::draw(frame, area, state),
        Screen::Stats => stats::draw(frame, area, state),
    }
}

/// Moves a selection within `len` rows.
pub(crate) fn moved(selected: usize, len: usize, command: Command, page: usize) -> usize {
    let last = len.saturating_sub(1);
    match command {
        Command::Up => selected.saturating_sub(1),
        Command::Down => (selected + 1).min(last),
        Command::PageUp => selected.saturating_sub(page),
        Command::PageDown => (selected + page).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        _ => selected,
    }
}

pub(crate) fn is_motion(command: Command) -> bool {
    matches!(
        command,
        Command::Up
            | Command::Down
            | Command::PageUp
            | Command::PageDown
            | Command::Top
            | Command::Bottom
    )
}

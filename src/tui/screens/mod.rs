//! The workstation's screens, one module each holding the screen's state, its commands, the
//! answers it waits for and its view. `update` dispatches to them; this module says which
//! screen module a screen is.

pub mod audit;
pub mod chart;
pub mod consultation;
pub mod login;
pub mod mfa_enroll;
pub mod paged;
pub mod past_notes;
pub mod patients;
pub mod recent;
pub mod report;
pub mod reports;
pub mod running;
pub mod sessions;
pub mod stats;
pub mod users;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::effect::Effect;
use super::keymap::{Command, Key, Scope};
use super::roles;
use super::state::{Screen, State};
use crate::model::patient::Patient;
use crate::model::report::ReportStatus;

/// The keymap scope of a screen's bindings.
pub fn scope(screen: Screen) -> Scope {
    match screen {
        Screen::Patients | Screen::Login => Scope::Patients,
        Screen::Chart => Scope::Chart,
        Screen::Reports => Scope::Reports,
        Screen::Report => Scope::Report,
        Screen::Consultation => Scope::Consultation,
        Screen::Stats => Scope::Stats,
        Screen::Running => Scope::Running,
        Screen::Recent => Scope::Recent,
        Screen::PastNotes => Scope::PastNotes,
        Screen::Users => Scope::Users,
        Screen::Audit => Scope::Audit,
        Screen::Sessions => Scope::Sessions,
        // The screen takes its keys itself, as a dialog does (`mfa_enroll::key`).
        Screen::MfaEnroll => Scope::Global,
    }
}

/// The commands `update` runs itself, on every screen (the palette's own key aside).
const GLOBAL_COMMANDS: &[Command] = &[
    Command::Search,
    Command::GoPatients,
    Command::GoReports,
    Command::GoStats,
    Command::Drafts,
    Command::RunningConsultations,
    Command::RecentPatients,
    Command::OwnSessions,
    Command::Refresh,
    Command::Lock,
    Command::Privacy,
    Command::Help,
    Command::Palette,
    Command::Back,
    Command::Quit,
];

/// The commands a screen's module handles (see each module's `command`).
fn screen_commands(screen: Screen) -> &'static [Command] {
    match screen {
        Screen::Login | Screen::MfaEnroll => &[],
        Screen::Patients => patients::COMMANDS,
        Screen::Chart => chart::COMMANDS,
        Screen::Reports => reports::COMMANDS,
        Screen::Report => report::COMMANDS,
        Screen::Consultation => consultation::COMMANDS,
        Screen::Stats => stats::COMMANDS,
        Screen::Running => running::COMMANDS,
        Screen::Recent => recent::COMMANDS,
        Screen::PastNotes => past_notes::COMMANDS,
        Screen::Users => users::COMMANDS,
        Screen::Audit => audit::COMMANDS,
        Screen::Sessions => sessions::COMMANDS,
    }
}

/// Whether `command` does something on the current screen: help, the palette and the hint bar
/// offer only these.
pub fn works_here(state: &State, command: Command) -> bool {
    // Nothing the role may not use is offered, whatever the screen (`tui::roles`).
    if !roles::allowed(state, command) {
        return false;
    }
    match command {
        // Back on the first screen has nowhere to go (`q` there quits, which Quit offers).
        Command::Back => !state.history.is_empty(),
        Command::Refresh => refreshes(state.screen),
        // A draft is edited and signed (a failed one written by hand first); a signed report
        // only takes addenda.
        Command::Edit | Command::Sign if state.screen == Screen::Report => matches!(
            report::shown_status(state),
            Some(ReportStatus::Completed | ReportStatus::Failed)
        ),
        Command::Addendum if state.screen == Screen::Report => {
            report::shown_status(state) == Some(ReportStatus::Signed)
        }
        // Only while a notice naming something is on screen.
        Command::OpenNotice => state.toast.as_ref().is_some_and(|t| t.open.is_some()),
        Command::Open if state.screen == Screen::Consultation => consultation::report_ready(state),
        Command::StopConsultation | Command::CancelConsultation => {
            state.screen == Screen::Consultation && consultation::running(state)
        }
        // For an account without one; the screen itself does not offer it again.
        Command::SetUpMfa => {
            state.session.user.is_some()
                && !state.session.second_factor
                && state.screen != Screen::MfaEnroll
        }
        _ => GLOBAL_COMMANDS.contains(&command) || screen_commands(state.screen).contains(&command),
    }
}

/// The keys that run `command` now: those bound to it on this screen (or every screen, where
/// the screen does not bind the key to something else), less the keys the notes editor takes
/// as text while a consultation runs.
pub fn keys_here(state: &State, command: Command) -> Vec<Key> {
    let mut keys = state
        .settings
        .keymap
        .keys_reaching(command, scope(state.screen));
    if state.screen == Screen::Consultation && consultation::running(state) {
        let own = state.settings.keymap.keys_in(command, Scope::Consultation);
        keys.retain(|key| own.contains(key) || !consultation::editor_takes(key));
    }
    keys
}

/// The commands that work here with the keys that run them now: what help lists. The
/// screen's own come first, then those of every screen, each in the keymap's order.
pub fn available(state: &State) -> Vec<(Command, Vec<Key>)> {
    let own = screen_commands(state.screen);
    let (mut first, rest): (Vec<Command>, Vec<Command>) = Command::on_screens()
        .filter(|command| works_here(state, *command))
        .partition(|command| own.contains(command));
    first.extend(rest);
    first
        .into_iter()
        .map(|command| (command, keys_here(state, command)))
        .collect()
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
        Screen::PastNotes => past_notes::banner(state),
        _ => None,
    }
}

/// The commands the key-hint bar offers on a screen.
pub fn hints(screen: Screen) -> &'static [Command] {
    match screen {
        Screen::Login | Screen::MfaEnroll => &[],
        Screen::Patients => patients::HINTS,
        Screen::Chart => chart::HINTS,
        Screen::Reports => reports::HINTS,
        Screen::Report => report::HINTS,
        Screen::Consultation => consultation::HINTS,
        Screen::Stats => stats::HINTS,
        Screen::Running => running::HINTS,
        Screen::Recent => recent::HINTS,
        Screen::PastNotes => past_notes::HINTS,
        Screen::Users => users::HINTS,
        Screen::Audit => audit::HINTS,
        Screen::Sessions => sessions::HINTS,
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
        Screen::Running => running::command(state, command, page),
        Screen::Recent => recent::command(state, command, page),
        Screen::PastNotes => past_notes::command(state, command, page),
        Screen::Users => users::command(state, command, page),
        Screen::Audit => audit::command(state, command, page),
        Screen::Sessions => sessions::command(state, command, page),
        Screen::Login | Screen::MfaEnroll => Vec::new(),
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
        Screen::Running => running::load(state),
        Screen::PastNotes => past_notes::refresh(state),
        Screen::Users => users::load(state),
        Screen::Audit => audit::load(state),
        Screen::Sessions => sessions::load(state),
        Screen::Login | Screen::Consultation | Screen::Recent | Screen::MfaEnroll => Vec::new(),
    }
}

/// Whether Refresh loads something again on `screen` (see `refresh`).
fn refreshes(screen: Screen) -> bool {
    !matches!(
        screen,
        Screen::Login | Screen::Consultation | Screen::Recent | Screen::MfaEnroll
    )
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
        Screen::Running => running::draw(frame, area, state),
        Screen::Recent => recent::draw(frame, area, state),
        Screen::PastNotes => past_notes::draw(frame, area, state),
        Screen::Users => users::draw(frame, area, state),
        Screen::Audit => audit::draw(frame, area, state),
        Screen::Sessions => sessions::draw(frame, area, state),
        Screen::MfaEnroll => mfa_enroll::draw(frame, area, state),
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

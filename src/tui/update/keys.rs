//! Keys, pastes and the mouse, routed: the lock screen, dialogs and overlays take keys first;
//! then text entry (login, notes); then the keymap turns the key into a command, which is
//! global (here) or the current screen's (its module).

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use crate::tui::components::{dialogs, help, lock, palette, quit, search};
use crate::tui::effect::Effect;
use crate::tui::keymap::{Command, Scope};
use crate::tui::layout;
use crate::tui::roles;
use crate::tui::screens::{
    self, consultation, login, mfa_enroll, patients, recent, reports, running, sessions, stats,
    users,
};
use crate::tui::state::{Jump, Overlay, Screen, State, ToastKind};
use crate::tui::ui::common::{StatusSegment, status_segment_at};

pub fn key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    // Ctrl-C quits from anywhere, asking first when typed text would be lost; a second
    // Ctrl-C is the answer yes.
    if ctrl && key.code == KeyCode::Char('c') {
        if state.quit_asked {
            return quit::quit(state);
        }
        return quit::request(state);
    }
    if state.quit_asked {
        return quit::key(state, &key);
    }
    if state.lock.locked {
        return lock::key(state, &key);
    }
    // The lock works from every state, above dialogs, overlays and editors, whose keys would
    // otherwise take it as text; what was open stays open beneath it.
    if state.session.user.is_some()
        && state.settings.keymap.own_command(&key, Scope::Global) == Some(Command::Lock)
    {
        lock::lock(state);
        return Vec::new();
    }
    if state.dialog.is_some() {
        return dialogs::key(state, &key);
    }
    if state.screen == Screen::Login {
        return login::key(state, &key);
    }
    // The code field takes the keys, as the login's does.
    if state.screen == Screen::MfaEnroll {
        return mfa_enroll::key(state, &key);
    }
    match state.overlay {
        Some(Overlay::Search) => return search::key(state, &key),
        Some(Overlay::Help { .. }) => return help::key(state, &key),
        Some(Overlay::Palette { .. }) => return palette::key(state, &key),
        None => {}
    }
    if state.screen == Screen::Consultation
        && consultation::running(state)
        && let Some(effects) = consultation::notes_key(state, &key)
    {
        return effects;
    }
    if state.screen == Screen::Users && state.users.filtering {
        return users::filter_key(state, &key);
    }
    let scope = screens::scope(state.screen);
    match state.settings.keymap.command(&key, scope) {
        Some(command) => {
            // `q` quits from the top screen; Esc there does nothing. Either stops a walk to
            // the list's last row first.
            if command == Command::Back
                && key.code == KeyCode::Char('q')
                && state.history.is_empty()
                && !screens::stop_walk(state)
            {
                return quit::request(state);
            }
            run_command(state, command)
        }
        None => Vec::new(),
    }
}

/// The mouse, when enabled: the wheel moves the selection like the arrow keys, a click on
/// a row of the patient list selects it (a second click opens it), and a click on the status
/// bar's unsigned count opens the drafts awaiting signature.
pub fn mouse(state: &mut State, mouse: MouseEvent) -> Vec<Effect> {
    if state.lock.locked
        || state.dialog.is_some()
        || state.overlay.is_some()
        || state.screen == Screen::MfaEnroll
    {
        return Vec::new();
    }
    let on_status_bar = mouse.row == layout::FrameAreas::of(state).status.y;
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) if on_status_bar => {
            match status_segment_at(state, mouse.column) {
                Some(StatusSegment::Unsigned) if roles::is_clinical(state) => {
                    run_command(state, Command::Drafts)
                }
                _ => Vec::new(),
            }
        }
        MouseEventKind::ScrollUp => run_command(state, Command::Up),
        MouseEventKind::ScrollDown => run_command(state, Command::Down),
        MouseEventKind::Down(MouseButton::Left) if state.screen == Screen::Patients => {
            patients::click(state, mouse.row)
        }
        _ => Vec::new(),
    }
}

/// A paste goes to the field that has the keys, and only there.
pub fn paste(state: &mut State, text: &str) -> Vec<Effect> {
    if state.lock.locked {
        return lock::paste(state, text);
    }
    if let Some(dialog) = &mut state.dialog {
        dialogs::paste(dialog, text);
        return Vec::new();
    }
    if state.screen == Screen::Login {
        return login::paste(state, text);
    }
    if state.screen == Screen::MfaEnroll {
        return mfa_enroll::paste(state, text);
    }
    // An overlay takes the paste; the notes hidden below it must not.
    match state.overlay {
        Some(Overlay::Search) => return search::paste(state, text),
        Some(Overlay::Help { .. }) => return help::paste(state, text),
        Some(Overlay::Palette { .. }) => return palette::paste(state, text),
        None => {}
    }
    if state.screen == Screen::Consultation {
        return consultation::paste(state, text);
    }
    if state.screen == Screen::Users && state.users.filtering {
        state.users.filter.insert(text);
        state.users.selected = 0;
    }
    Vec::new()
}

/// Runs a command from the keymap or the palette.
pub fn run_command(state: &mut State, command: Command) -> Vec<Effect> {
    // A key for a command the role may not use says why, and sends nothing the server would
    // answer 403.
    if let Some(role) = roles::role(state)
        && !roles::allows(role, command)
    {
        state.toast(roles::refusal(role, command), ToastKind::Info);
        return Vec::new();
    }
    let page = layout::page_rows(state);
    match command {
        Command::Quit => quit::request(state),
        Command::Back => back(state),
        Command::Search => search::open(state),
        Command::Help => {
            state.overlay = Some(Overlay::Help {
                filter: Default::default(),
                scroll: 0,
            });
            Vec::new()
        }
        Command::Palette => {
            state.overlay = Some(Overlay::Palette {
                input: Default::default(),
                selected: 0,
            });
            Vec::new()
        }
        Command::GoPatients => {
            state.history.clear();
            state.screen = Screen::Patients;
            if state.patients.rows.items.is_empty() && !state.patients.rows.loading {
                return patients::load(state);
            }
            Vec::new()
        }
        Command::GoReports => {
            reports::leave_drafts(state);
            state.go(Screen::Reports);
            reports::load(state)
        }
        Command::GoStats => {
            state.go(Screen::Stats);
            stats::load(state)
        }
        Command::Drafts => reports::open_drafts(state),
        Command::RunningConsultations => running::open(state),
        Command::RecentPatients => recent::open(state),
        Command::OwnSessions => sessions::open(state),
        Command::SetUpMfa => mfa_enroll::open(state, false),
        Command::Lock => {
            lock::lock(state);
            Vec::new()
        }
        Command::Privacy => {
            state.privacy = !state.privacy;
            Vec::new()
        }
        Command::Refresh => screens::refresh(state),
        Command::OpenNotice => open_notice(state),
        _ => screens::command(state, command, page),
    }
}

/// Opens what the notice on screen is about, if it names something.
fn open_notice(state: &mut State) -> Vec<Effect> {
    match state.toast.take().and_then(|toast| toast.open) {
        Some(Jump::Report(id)) => screens::report::open(state, id, vec![id]),
        None => Vec::new(),
    }
}

fn back(state: &mut State) -> Vec<Effect> {
    if screens::stop_walk(state) {
        return Vec::new();
    }
    let mut effects = Vec::new();
    if state.screen == Screen::Consultation {
        // Leaving the notes saves them now rather than after the pause.
        effects.extend(consultation::save_notes(state));
    }
    if let Some(previous) = state.history.pop() {
        state.screen = previous;
    }
    effects
}

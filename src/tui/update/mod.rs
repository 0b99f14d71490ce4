//! `update`: the only place the workstation's state changes. An action in, state changed in
//! place, effects out; it never waits and never touches the terminal or the network, so every
//! behaviour can be tested with plain values. Keys, pastes, the mouse and answers are handed to
//! the screen or component they belong to (`tui/screens`, `tui/components`).

mod keys;
mod responses;

pub use keys::run_command;

use uuid::Uuid;

use super::action::{Action, Timer};
use super::components::{lock, quit, search};
use super::effect::{Call, Effect};
use super::live;
use super::roles;
use super::screens::{consultation, mfa_enroll};
use super::state::*;
use crate::client::{ApiError, ErrorKind};

/// The first wait before trying an unreachable server again; it doubles with each failed try
/// up to `MAX_RECONNECT_MS`.
const RECONNECT_MS: u64 = 2_000;
const MAX_RECONNECT_MS: u64 = 30_000;
const POLL_REPORT_MS: u64 = 400;
const UNSIGNED_REFRESH_MS: u64 = 60_000;

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let in_view = (state.screen, state.dialog.is_some(), state.lock.locked);
    let mut effects = handle(state, action);
    effects.extend(live::settle(state, in_view));
    effects.extend(quit::settle(state));
    effects
}

fn handle(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Tick(now) => tick(state, now),
        Action::Resize(width, height) => {
            state.width = width;
            state.height = height;
            state.dirty = true;
            Vec::new()
        }
        Action::Key(key) => {
            state.last_activity_ms = state.now_ms;
            state.dirty = true;
            keys::key(state, key)
        }
        Action::Mouse(mouse) => {
            state.last_activity_ms = state.now_ms;
            state.dirty = true;
            keys::mouse(state, mouse)
        }
        Action::Paste(text) => {
            state.last_activity_ms = state.now_ms;
            state.dirty = true;
            keys::paste(state, &text)
        }
        Action::Response {
            request,
            latency_ms,
            response,
        } => {
            state.latency_ms = Some(latency_ms);
            state.dirty = true;
            responses::response(state, request, *response)
        }
        Action::Timer(timer) => on_timer(state, timer),
        Action::Online => {
            state.dirty = true;
            live::back_online(state)
        }
        Action::ServerEvent(event) => {
            state.dirty = true;
            live::on_event(state, event)
        }
        Action::EventsDown { lasting } => live::on_down(state, lasting),
        Action::Terminate => {
            state.quit = true;
            vec![Effect::Quit]
        }
    }
}

fn tick(state: &mut State, now: u64) -> Vec<Effect> {
    let previous = state.now_ms;
    state.now_ms = now;
    let mut effects = Vec::new();
    if let Some(toast) = &state.toast
        && toast.until_ms <= now
    {
        state.toast = None;
        state.dirty = true;
    }
    let logged_in = state.session.user.is_some();
    if logged_in
        && !state.lock.locked
        && now.saturating_sub(state.last_activity_ms) >= state.settings.lock_after_ms
    {
        lock::lock(state);
    }
    // The consultation clock shows seconds.
    if state.screen == Screen::Consultation && previous / 1000 != now / 1000 {
        state.dirty = true;
    }
    // While offline the reconnect loop does the asking; a refresh failing too would start a
    // second loop.
    if logged_in
        && roles::is_clinical(state)
        && state.offline.is_none()
        && !mfa_enroll::holds_session(state)
        && previous / UNSIGNED_REFRESH_MS != now / UNSIGNED_REFRESH_MS
    {
        effects.push(call(state, Call::Unsigned));
    }
    effects
}

fn on_timer(state: &mut State, timer: Timer) -> Vec<Effect> {
    match timer {
        Timer::Search(edits) if edits == state.search.edits => search::search_now(state),
        Timer::SearchResume => search::resume(state),
        Timer::SaveNotes(edits) if edits == state.consultation.edits => {
            consultation::save_notes(state)
        }
        Timer::PollReport(id) => vec![call(state, Call::PollReport(id))],
        Timer::Reconnect if state.offline.is_some() => {
            let heartbeat = heartbeat(state);
            vec![call(state, heartbeat)]
        }
        Timer::LiveRefresh => live::on_gathered(state),
        _ => Vec::new(),
    }
}

/// The call that asks whether the server answers again: the status bar's unsigned count for a
/// doctor, who is logged in for the roles the count would answer 403 (and while a required
/// setup of a second factor holds the session, when it would too).
pub(crate) fn heartbeat(state: &State) -> Call {
    if roles::is_clinical(state) && !mfa_enroll::holds_session(state) {
        Call::Unsigned
    } else {
        Call::Me
    }
}

/// A numbered API call.
pub(crate) fn call(state: &mut State, call: Call) -> Effect {
    Effect::Call {
        request: state.request(),
        call,
    }
}

/// What every failed call does first: an ended session asks for the password, a lost server
/// shows the offline banner and retries; anything else is the caller's to show.
pub(crate) fn handle_error(state: &mut State, error: &ApiError) -> Option<Vec<Effect>> {
    if error.needs_login() && state.session.user.is_some() {
        if !matches!(state.dialog, Some(Dialog::SessionExpired(_))) {
            state.dialog = Some(Dialog::SessionExpired(Default::default()));
        }
        return Some(Vec::new());
    }
    if error.is_offline() {
        let first = state.offline.is_none();
        state.offline = Some(error.message.clone());
        if first {
            state.reconnects = 0;
            return Some(vec![reconnect_later(state)]);
        }
        return Some(Vec::new());
    }
    if error.kind == ErrorKind::Forbidden {
        state.toast(error.message.clone(), ToastKind::Error);
        return Some(Vec::new());
    }
    if error.kind == ErrorKind::MfaEnrollmentRequired {
        // The session can do nothing else until it has one (a resumed session that did not
        // say, an administrator's reset meanwhile): its setup takes the screen.
        if state.screen == Screen::MfaEnroll {
            // Already setting one up: what was scanned stays, and there is no going back now.
            state.mfa_enroll.required = true;
            state.history.clear();
            return Some(Vec::new());
        }
        return Some(mfa_enroll::open(state, true));
    }
    if let ErrorKind::RateLimited { retry_after_s } = error.kind {
        state.toast(
            format!("The server asks to slow down: wait {retry_after_s} seconds, then try again."),
            ToastKind::Error,
        );
        return Some(Vec::new());
    }
    None
}

pub(crate) fn poll_later(report_id: Uuid) -> Effect {
    Effect::After {
        delay_ms: POLL_REPORT_MS,
        timer: Timer::PollReport(report_id),
    }
}

/// The next try to reach the server, each a little later than the one before.
pub(super) fn reconnect_later(state: &mut State) -> Effect {
    let delay_ms = RECONNECT_MS
        .saturating_mul(1 << state.reconnects.min(8))
        .min(MAX_RECONNECT_MS);
    state.reconnects = state.reconnects.saturating_add(1);
    Effect::After {
        delay_ms,
        timer: Timer::Reconnect,
    }
}

#[cfg(test)]
mod tests;

//! The user's own sessions: `A` lists them from every screen and role, `x` ends another
//! workstation's session and drops its row, and this workstation's own session is not ended
//! from the list (quitting does that).

use super::*;
use crate::model::auth::{SessionEnded, SessionInfo as OpenSession, SessionList};

fn session(n: u128, current: bool) -> OpenSession {
    OpenSession {
        id: Uuid::from_u128(0x7000 + n),
        created_at: at(),
        last_used_at: at(),
        idle_expires_at: at() + chrono::Duration::minutes(30),
        expires_at: at() + chrono::Duration::hours(12),
        ip: Some(format!("10.0.0.{n}")),
        client: Some(format!("synapse-workstation/{n}")),
        current,
    }
}

/// Logged in, the sessions screen open with this workstation's session and another.
fn on_sessions() -> State {
    let mut state = logged_in();
    let effects = update(&mut state, chr('A'));
    assert_eq!(state.screen, Screen::Sessions);
    let (request, call) = only_call(&effects);
    assert_eq!(call, Call::OwnSessions);
    let list = SessionList {
        items: vec![session(1, true), session(2, false)],
    };
    let effects = respond(&mut state, request, Response::OwnSessions(Ok(list)));
    assert!(effects.is_empty(), "{effects:?}");
    state
}

#[test]
fn another_workstations_session_is_ended_from_the_list() {
    let mut state = on_sessions();
    update(&mut state, chr('j'));
    let (request, call) = only_call(&update(&mut state, chr('x')));
    assert_eq!(call, Call::EndOwnSession(Uuid::from_u128(0x7002)));
    let effects = respond(
        &mut state,
        request,
        Response::OwnSessionEnded(Uuid::from_u128(0x7002), Ok(SessionEnded { ended: true })),
    );
    assert!(effects.is_empty(), "{effects:?}");
    let rows = state.own_sessions.rows.ready().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].current);
    assert!(state.toast.as_ref().unwrap().text.contains("Session ended"));
}

#[test]
fn this_workstations_own_session_is_not_ended_from_the_list() {
    let mut state = on_sessions();
    let effects = update(&mut state, chr('x'));
    assert!(calls(&effects).is_empty(), "{effects:?}");
    assert!(state.toast.as_ref().unwrap().text.contains("quit"));
    assert_eq!(state.own_sessions.rows.ready().unwrap().len(), 2);
}

#[test]
fn a_session_ended_meanwhile_reloads_the_list_and_says_why() {
    let mut state = on_sessions();
    update(&mut state, chr('j'));
    let (request, _) = only_call(&update(&mut state, chr('x')));
    let effects = respond(
        &mut state,
        request,
        Response::OwnSessionEnded(
            Uuid::from_u128(0x7002),
            Err(error(ErrorKind::NotFound, "Not found.")),
        ),
    );
    assert_eq!(only_call(&effects).1, Call::OwnSessions);
    assert!(state.toast.as_ref().unwrap().text.contains("Not found"));
}

#[test]
fn every_role_reaches_its_own_sessions() {
    for role in [Role::Doctor, Role::Receptionist, Role::Admin] {
        let mut state = logged_in();
        if let Some(user) = &mut state.session.user {
            user.role = role;
        }
        state.screen = crate::tui::roles::home(role);
        let effects = update(&mut state, chr('A'));
        assert_eq!(state.screen, Screen::Sessions, "{role:?}");
        assert_eq!(only_call(&effects).1, Call::OwnSessions, "{role:?}");
    }
}

//! Each role sees only what it can use: what logging in asks for and lands on, and that a key
//! for something the role may not use sends nothing the server would answer 403.

use super::*;
use crate::tui::keymap::Command;

fn person(role: Role) -> User {
    User {
        id: Uuid::from_u128(9),
        email: "someone@clinic.test".into(),
        full_name: "Sam Someone".into(),
        role,
        ..user()
    }
}

/// Logged in as `role` through the login screen; returns the effects of the answer.
fn log_in_as(state: &mut State, role: Role) -> Vec<Effect> {
    type_text(state, "someone@clinic.test");
    update(state, key(KeyCode::Enter));
    type_text(state, "pw");
    let (request, _) = only_call(&update(state, key(KeyCode::Enter)));
    respond(state, request, Response::Login(Ok(person(role))))
}

/// The front desk with the first page of every doctor's patients loaded.
fn at_the_front_desk() -> State {
    let mut state = logged_out();
    let effects = log_in_as(&mut state, Role::Receptionist);
    let (request, _) = only_call(&effects);
    respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(0..3, None))),
    );
    state
}

fn administrating() -> State {
    let mut state = logged_out();
    log_in_as(&mut state, Role::Admin);
    state
}

/// No call the server answers 403 to the front desk or the administrator.
fn assert_nothing_clinical(effects: &[Effect]) {
    for effect in effects {
        match effect {
            Effect::Call { call, .. } => assert!(
                matches!(call, Call::ListPatients(_) | Call::Search(_) | Call::Me),
                "{call:?}"
            ),
            Effect::Subscribe => panic!("the live events are a doctor's"),
            _ => {}
        }
    }
}

#[test]
fn the_front_desk_lands_on_the_list_without_the_doctors_calls() {
    let mut state = logged_out();
    let effects = log_in_as(&mut state, Role::Receptionist);
    assert_eq!(state.screen, Screen::Patients);
    assert_nothing_clinical(&effects);
    assert!(matches!(only_call(&effects).1, Call::ListPatients(_)));
}

#[test]
fn the_administrator_lands_on_the_users_screen_and_asks_for_nothing_clinical() {
    let mut state = logged_out();
    let effects = log_in_as(&mut state, Role::Admin);
    assert_eq!(state.screen, Screen::Users);
    assert_eq!(
        only_call(&effects).1,
        Call::Users,
        "the accounts, and nothing else"
    );
}

#[test]
fn a_doctor_still_gets_the_list_the_count_the_running_and_the_events() {
    let mut state = logged_out();
    let effects = log_in_as(&mut state, Role::Doctor);
    assert_eq!(state.screen, Screen::Patients);
    let asked: Vec<Call> = calls(&effects).into_iter().map(|(_, c)| c).collect();
    assert!(matches!(asked[0], Call::ListPatients(_)), "{asked:?}");
    assert!(asked.contains(&Call::Unsigned));
    assert!(asked.contains(&Call::Active));
    assert!(effects.contains(&Effect::Subscribe));
}

#[test]
fn enter_at_the_front_desk_opens_no_chart_but_the_patients_details() {
    let mut state = at_the_front_desk();
    let effects = update(&mut state, key(KeyCode::Enter));
    assert_nothing_clinical(&effects);
    assert_eq!(state.screen, Screen::Patients);
    assert!(
        matches!(state.dialog, Some(Dialog::PatientForm(_))),
        "the demographics and contacts open: {:?}",
        state.dialog
    );
}

#[test]
fn a_search_result_at_the_front_desk_opens_no_chart() {
    let mut state = at_the_front_desk();
    update(&mut state, chr('/'));
    type_text(&mut state, "ad");
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Search(2))));
    assert_eq!(call, Call::Search("ad".into()));
    respond(
        &mut state,
        request,
        Response::Search(Ok(SearchResults {
            items: vec![summary(1)],
            count: 1,
        })),
    );
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.screen, Screen::Patients);
}

#[test]
fn the_doctors_keys_at_the_front_desk_say_why_and_send_nothing() {
    for c in ['2', '3'] {
        let mut state = at_the_front_desk();
        let effects = update(&mut state, chr(c));
        assert!(effects.is_empty(), "{c}: {effects:?}");
        assert_eq!(state.screen, Screen::Patients);
        let toast = state.toast.as_ref().expect("a notice says why");
        assert!(toast.text.contains("front desk"), "{}", toast.text);
    }
}

#[test]
fn the_patient_keys_do_nothing_for_the_administrator() {
    for c in ['1', '2', '3', '/'] {
        let mut state = administrating();
        let effects = update(&mut state, chr(c));
        assert!(effects.is_empty(), "{c}: {effects:?}");
        assert_eq!(state.screen, Screen::Users);
        assert_eq!(state.overlay, None, "{c}");
    }
}

#[test]
fn no_unsigned_count_is_asked_for_outside_a_doctors_session() {
    let mut state = at_the_front_desk();
    // A minute passes: a doctor's count would be asked for again.
    let effects = update(&mut state, Action::Tick(61_000));
    assert_nothing_clinical(&effects);
    // Unlocking opens no event stream.
    update(&mut state, ctrl('l'));
    assert!(state.lock.locked);
    type_text(&mut state, "pw");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(
        &mut state,
        request,
        Response::Unlock(Ok(person(Role::Receptionist))),
    );
    assert_nothing_clinical(&effects);
}

#[test]
fn the_front_desk_finds_the_server_again_without_the_doctors_count() {
    let mut state = at_the_front_desk();
    let (request, _) = only_call(&update(&mut state, chr('r')));
    respond(
        &mut state,
        request,
        Response::Patients(Err(ApiError::unreachable("req-1"))),
    );
    assert!(state.offline.is_some());
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    assert_eq!(call, Call::Me);
    let effects = respond(
        &mut state,
        request,
        Response::Me(Ok(person(Role::Receptionist))),
    );
    assert_eq!(state.offline, None);
    assert_nothing_clinical(&effects);
}

#[test]
fn a_remembered_session_lands_where_logging_in_does() {
    let mut state = logged_out();
    let effects = respond(&mut state, 1, Response::Resumed(Ok(person(Role::Admin))));
    assert_eq!(state.screen, Screen::Users);
    assert_eq!(
        only_call(&effects).1,
        Call::Users,
        "the accounts, and nothing else"
    );

    let mut state = logged_out();
    let effects = respond(
        &mut state,
        1,
        Response::Resumed(Ok(person(Role::Receptionist))),
    );
    assert_eq!(state.screen, Screen::Patients);
    assert_nothing_clinical(&effects);
}

/// The hint bar's words on the state as it is.
fn hint_words(state: &State) -> Vec<(String, &'static str)> {
    crate::tui::ui::common::hints(state)
}

/// What help lists and the palette offers, by command.
fn offered(state: &State) -> (Vec<Command>, Vec<Command>) {
    let help = crate::tui::screens::available(state)
        .into_iter()
        .map(|(command, _)| command)
        .collect();
    let palette = Command::on_screens()
        .filter(|c| *c != Command::Palette && crate::tui::screens::works_here(state, *c))
        .collect();
    (help, palette)
}

#[test]
fn the_front_desks_hint_bar_help_and_palette_offer_registering_and_changing_a_patient() {
    let state = at_the_front_desk();
    assert_eq!(
        hint_words(&state),
        vec![
            ("Enter".to_string(), "open"),
            ("/".to_string(), "search"),
            ("n".to_string(), "new"),
            ("e".to_string(), "edit"),
            ("s".to_string(), "sort"),
            ("?".to_string(), "help"),
        ]
    );
    let (help, palette) = offered(&state);
    for command in [Command::RegisterPatient, Command::EditPatient] {
        assert!(help.contains(&command), "help lacks {command:?}");
        assert!(palette.contains(&command), "the palette lacks {command:?}");
    }
    for command in [Command::GoReports, Command::GoStats, Command::Drafts] {
        assert!(!help.contains(&command), "help offers {command:?}");
        assert!(
            !palette.contains(&command),
            "the palette offers {command:?}"
        );
    }
    // And the keys the bar names do what it says.
    let mut register = state.clone();
    update(&mut register, chr('n'));
    assert!(matches!(register.dialog, Some(Dialog::PatientForm(_))));
    let mut change = state.clone();
    update(&mut change, chr('e'));
    assert!(matches!(change.dialog, Some(Dialog::PatientForm(_))));
}

#[test]
fn a_doctors_hint_bar_offers_registering_and_changing_a_patient_with_the_rest() {
    let mut state = logged_out();
    let effects = log_in_as(&mut state, Role::Doctor);
    let (request, _) = calls(&effects)[0].clone();
    respond(
        &mut state,
        request,
        Response::Patients(Ok(patient_page(0..3, None))),
    );
    let words: Vec<&str> = hint_words(&state).into_iter().map(|(_, w)| w).collect();
    for word in ["open", "search", "new", "edit", "sort", "reports", "help"] {
        assert!(words.contains(&word), "{word} missing from {words:?}");
    }
}

#[test]
fn the_administrators_hint_bar_offers_only_the_administrators_commands() {
    let state = administrating();
    let bar = hint_words(&state);
    assert!(!bar.is_empty());
    let words: Vec<&str> = bar.iter().map(|(_, w)| *w).collect();
    for word in ["search", "reports", "sort"] {
        assert!(
            !words.contains(&word),
            "{word} offered to the administrator: {words:?}"
        );
    }
    let (help, palette) = offered(&state);
    for command in help.iter().chain(palette.iter()) {
        assert!(
            crate::tui::roles::allows(Role::Admin, *command),
            "{command:?} offered to the administrator"
        );
    }
}

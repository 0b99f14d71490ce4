//! The second factor at the workstation: the login's code step, the sign dialog asking for the
//! code when the server says the doctor has one, and setting one up: after a login whose role
//! needs one (the session can do nothing else), on a 403 that says so, and from the palette.

use super::*;
use crate::model::auth::{MfaEnrollment, MfaRecoveryCodes};
use crate::model::envelope::FieldError;
use crate::tui::keymap::Command;
use crate::tui::screens::mfa_enroll::READ_CODES_MS;

#[test]
fn a_login_that_needs_a_code_asks_for_it_and_sends_it_with_the_token() {
    let mut state = logged_out();
    type_text(&mut state, "dr.grey@clinic.test");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "s3cret");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(
        &mut state,
        request,
        Response::Login(Err(error(
            ErrorKind::MfaRequired {
                mfa_token: "step-two".into(),
            },
            "The password is right; this account also needs the code.",
        ))),
    );
    assert!(effects.is_empty());
    assert_eq!(state.screen, Screen::Login);
    assert_eq!(state.login.mfa_token.as_deref(), Some("step-two"));
    assert_eq!(state.login.focus, LoginFocus::Code);
    assert!(state.login.error.is_none());

    // Enter with no code says what is missing and sends nothing.
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(state.login.error.is_some());
    type_text(&mut state, "123456");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::VerifyMfa {
            mfa_token: "step-two".into(),
            code: "123456".into(),
        }
    );
    // A wrong code keeps the code step, with the server's message.
    respond(
        &mut state,
        request,
        Response::Login(Err(error(
            ErrorKind::MfaCodeInvalid,
            "The code is not correct.",
        ))),
    );
    assert_eq!(state.login.focus, LoginFocus::Code);
    assert_eq!(state.login.mfa_token.as_deref(), Some("step-two"));
    assert_eq!(
        state.login.error.as_deref(),
        Some("The code is not correct.")
    );
    assert_eq!(state.login.code.value, "");

    type_text(&mut state, "654321");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, Response::Login(Ok(user())));
    assert_eq!(state.screen, Screen::Patients);
    assert!(state.login.mfa_token.is_none());
}

#[test]
fn esc_at_the_code_goes_back_to_the_password_and_an_expired_step_starts_again() {
    let mut state = logged_out();
    state.login.mfa_token = Some("step-two".into());
    state.login.focus = LoginFocus::Code;
    type_text(&mut state, "12");
    update(&mut state, key(KeyCode::Esc));
    assert!(state.login.mfa_token.is_none());
    assert_eq!(state.login.focus, LoginFocus::Password);
    assert_eq!(state.login.code.value, "");

    state.login.mfa_token = Some("step-two".into());
    state.login.focus = LoginFocus::Code;
    type_text(&mut state, "123456");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::Login(Err(error(
            ErrorKind::Unauthenticated,
            "This sign-in step has expired. Log in again.",
        ))),
    );
    assert!(state.login.mfa_token.is_none());
    assert_eq!(state.login.focus, LoginFocus::Password);
    assert!(state.login.error.is_some());
}

#[test]
fn signing_asks_for_the_code_when_the_server_names_it() {
    let mut state = on_report(ReportStatus::Completed);
    update(&mut state, chr('S'));
    update(&mut state, chr('y'));
    type_text(&mut state, "right");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Sign {
            id: report_id(0),
            version: 3,
            password: "right".into(),
            code: None,
        }
    );
    respond(
        &mut state,
        request,
        Response::Signed(Err(error(
            ErrorKind::Validation {
                fields: vec![crate::model::envelope::FieldError::new(
                    "code",
                    "is required to sign",
                )],
            },
            "Invalid input.",
        ))),
    );
    match &state.dialog {
        Some(Dialog::Sign(sign)) => {
            assert!(sign.needs_code && sign.on_code && !sign.busy);
            assert_eq!(sign.password.value, "right", "the password is kept");
            assert!(sign.error.is_some());
        }
        other => panic!("the sign dialog should stay open, got {other:?}"),
    }
    // Enter without the code sends nothing.
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    type_text(&mut state, "111111");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Sign {
            id: report_id(0),
            version: 3,
            password: "right".into(),
            code: Some("111111".into()),
        }
    );
    respond(
        &mut state,
        request,
        Response::Signed(Err(error(
            ErrorKind::MfaCodeInvalid,
            "The code is not correct.",
        ))),
    );
    match &state.dialog {
        Some(Dialog::Sign(sign)) => {
            assert!(sign.on_code && !sign.busy);
            assert_eq!(sign.code.value, "");
            assert_eq!(sign.error.as_deref(), Some("The code is not correct."));
        }
        other => panic!("the sign dialog should stay open, got {other:?}"),
    }
    type_text(&mut state, "222222");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::Signed(Ok(report(0, ReportStatus::Signed))),
    );
    assert_eq!(state.dialog, None);
    assert_eq!(report_status(&state), ReportStatus::Signed);
}

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

fn enrolment() -> MfaEnrollment {
    MfaEnrollment {
        secret: SECRET.into(),
        otpauth_uri: format!(
            "otpauth://totp/Synapse:dr.grey%40clinic.test?secret={SECRET}&issuer=Synapse"
        ),
    }
}

fn recovery_codes() -> MfaRecoveryCodes {
    MfaRecoveryCodes {
        recovery_codes: (0..10).map(|n| format!("code{n}-abcde")).collect(),
    }
}

/// Logs in with the password; the server says the role needs a second factor the account has
/// not got. Answers the enrolment's request.
fn logged_in_must_enrol(state: &mut State) -> u64 {
    type_text(state, "dr.grey@clinic.test");
    update(state, key(KeyCode::Enter));
    type_text(state, "s3cret");
    let (request, _) = only_call(&update(state, key(KeyCode::Enter)));
    let effects = respond(state, request, Response::MustEnrol(user()));
    let (request, call) = only_call(&effects);
    assert_eq!(
        call,
        Call::EnrollMfa,
        "nothing but the enrolment is asked for"
    );
    request
}

/// On the enrolment screen with the secret shown.
fn scanning(required: bool) -> State {
    let mut state = logged_out();
    let request = logged_in_must_enrol(&mut state);
    state.mfa_enroll.required = required;
    assert!(respond(&mut state, request, Response::MfaEnrolment(Ok(enrolment()))).is_empty());
    state
}

fn enrol_step(state: &State) -> &EnrolStep {
    &state.mfa_enroll.step
}

#[test]
fn a_login_whose_role_needs_a_second_factor_opens_its_setup_and_nothing_else() {
    let mut state = logged_out();
    let request = logged_in_must_enrol(&mut state);
    assert_eq!(state.screen, Screen::MfaEnroll);
    assert!(state.mfa_enroll.required);
    assert!(state.history.is_empty());
    assert_eq!(state.session.user, Some(user()));
    assert_eq!(enrol_step(&state), &EnrolStep::Starting);
    // The unsigned count would answer 403 until the second factor is on.
    assert!(calls(&update(&mut state, Action::Tick(60_000))).is_empty());

    respond(&mut state, request, Response::MfaEnrolment(Ok(enrolment())));
    match enrol_step(&state) {
        EnrolStep::Scan { secret, uri } => {
            assert_eq!(secret, SECRET);
            assert!(uri.starts_with("otpauth://"));
        }
        other => panic!("the secret should show, got {other:?}"),
    }
}

#[test]
fn the_first_code_turns_it_on_and_the_recovery_codes_need_a_deliberate_enter() {
    let mut state = scanning(true);
    // Enter with too few digits says what to type and sends nothing.
    type_text(&mut state, "123");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(
        state
            .mfa_enroll
            .error
            .as_deref()
            .unwrap()
            .contains("6 digits"),
        "{:?}",
        state.mfa_enroll.error
    );
    type_text(&mut state, "456");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ConfirmMfa {
            code: "123456".into()
        }
    );
    assert!(state.mfa_enroll.busy);
    // Typing while the code is with the server changes nothing.
    update(&mut state, chr('9'));
    assert_eq!(state.mfa_enroll.code.value, "123456");

    let effects = respond(
        &mut state,
        request,
        Response::MfaConfirmed(Ok(recovery_codes())),
    );
    assert!(effects.is_empty());
    match enrol_step(&state) {
        EnrolStep::Codes { codes, .. } => assert_eq!(codes.len(), 10),
        other => panic!("the recovery codes should show, got {other:?}"),
    }
    assert!(state.session.second_factor);
    // Esc, other keys and an Enter at once (the one that sent the code, bouncing) do not
    // leave codes that are never shown again.
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    update(&mut state, chr('q'));
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert_eq!(state.screen, Screen::MfaEnroll);
    // Quitting now asks first, naming them.
    update(&mut state, ctrl('c'));
    assert!(state.quit_asked && !state.quit);
    update(&mut state, chr('n'));
    assert!(!state.quit_asked);

    update(&mut state, Action::Tick(READ_CODES_MS));
    let effects = update(&mut state, key(KeyCode::Enter));
    // The doctor's home, loaded, as after any login.
    assert_eq!(state.screen, Screen::Patients);
    assert!(
        calls(&effects)
            .iter()
            .any(|(_, c)| matches!(c, Call::ListPatients(_)))
    );
    assert!(calls(&effects).iter().any(|(_, c)| *c == Call::Active));
    assert!(effects.contains(&Effect::Subscribe));
    assert!(
        state
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("second factor is on")
    );
    // Nothing of the setup stays in memory.
    assert_eq!(enrol_step(&state), &EnrolStep::Starting);
    assert!(!state.mfa_enroll.required);
}

#[test]
fn a_wrong_code_is_said_on_the_field_which_is_cleared_for_the_next() {
    let mut state = scanning(true);
    type_text(&mut state, "111111");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::MfaConfirmed(Err(error(
            ErrorKind::Validation {
                fields: vec![FieldError::new(
                    "code",
                    "is not the current code for this secret: check the app's clock and type the 6 digits it shows now",
                )],
            },
            "Invalid input.",
        ))),
    );
    assert_eq!(state.screen, Screen::MfaEnroll);
    assert!(matches!(enrol_step(&state), EnrolStep::Scan { .. }));
    assert!(!state.mfa_enroll.busy);
    assert_eq!(state.mfa_enroll.code.value, "");
    let said = state.mfa_enroll.error.clone().unwrap();
    assert!(
        said.starts_with("That code is not the current code"),
        "{said}"
    );
    // Typing again clears the error.
    update(&mut state, chr('2'));
    assert!(state.mfa_enroll.error.is_none());
}

#[test]
fn a_rate_limited_code_says_how_long_to_wait_and_keeps_it_for_the_next_enter() {
    let mut state = scanning(true);
    type_text(&mut state, "222 222");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ConfirmMfa {
            code: "222222".into()
        },
        "the app's grouping is not sent"
    );
    respond(
        &mut state,
        request,
        Response::MfaConfirmed(Err(error(
            ErrorKind::RateLimited { retry_after_s: 7 },
            "Too many requests.",
        ))),
    );
    let said = state.mfa_enroll.error.clone().unwrap();
    assert!(said.contains("wait 7 seconds"), "{said}");
    assert_eq!(state.mfa_enroll.code.value, "222 222");
    assert!(state.toast.is_none(), "said on the field, not in a notice");
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert!(matches!(call, Call::ConfirmMfa { .. }));
}

#[test]
fn esc_asks_before_leaving_a_required_setup_and_yes_logs_out() {
    let mut state = scanning(true);
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert!(state.mfa_enroll.leave_asked);
    // Any other key stays, and is not typed into the code.
    update(&mut state, chr('1'));
    assert!(!state.mfa_enroll.leave_asked);
    assert_eq!(state.mfa_enroll.code.value, "");
    assert_eq!(state.screen, Screen::MfaEnroll);

    update(&mut state, key(KeyCode::Esc));
    let (_, call) = only_call(&update(&mut state, chr('y')));
    assert_eq!(call, Call::Logout);
    assert_eq!(state.screen, Screen::Login);
    assert!(state.session.user.is_none());
    assert_eq!(state.login.email.value, "dr.grey@clinic.test");
    assert_eq!(state.login.focus, LoginFocus::Password);
    assert!(
        state
            .login
            .error
            .as_deref()
            .unwrap()
            .contains("log in again"),
        "{:?}",
        state.login.error
    );
    assert!(!matches!(enrol_step(&state), EnrolStep::Scan { .. }));
}

#[test]
fn a_setup_from_the_palette_is_voluntary_and_esc_goes_back() {
    let mut state = logged_in();
    assert!(crate::tui::screens::works_here(&state, Command::SetUpMfa));
    let choices = crate::tui::components::palette::choices(&state, "second factor");
    assert_eq!(
        choices.first(),
        Some(&crate::tui::components::palette::Choice::Run(
            Command::SetUpMfa
        ))
    );
    update(&mut state, chr(':'));
    type_text(&mut state, "second factor");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::EnrollMfa);
    assert_eq!(state.screen, Screen::MfaEnroll);
    assert!(!state.mfa_enroll.required);
    respond(&mut state, request, Response::MfaEnrolment(Ok(enrolment())));
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.screen, Screen::Patients);
    assert!(!state.mfa_enroll.leave_asked);

    // Set up to the end, it goes back where the user was and is not offered again.
    update(&mut state, chr('M'));
    let request = state.mfa_enroll.request;
    respond(&mut state, request, Response::MfaEnrolment(Ok(enrolment())));
    type_text(&mut state, "654321");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::MfaConfirmed(Ok(recovery_codes())),
    );
    let later = state.now_ms + READ_CODES_MS;
    update(&mut state, Action::Tick(later));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.is_empty(), "nothing is loaded again: {effects:?}");
    assert_eq!(state.screen, Screen::Patients);
    assert!(!crate::tui::screens::works_here(&state, Command::SetUpMfa));
}

#[test]
fn an_account_with_a_second_factor_is_not_offered_one_and_the_server_is_believed() {
    let mut state = logged_out();
    state.login.mfa_token = Some("step-two".into());
    state.login.focus = LoginFocus::Code;
    type_text(&mut state, "123456");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, Response::Login(Ok(user())));
    assert!(state.session.second_factor);
    assert!(!crate::tui::screens::works_here(&state, Command::SetUpMfa));

    // A resumed session does not say; the server answers that one is on already.
    let mut state = logged_in();
    let (request, _) = only_call(&update(&mut state, chr('M')));
    respond(
        &mut state,
        request,
        Response::MfaEnrolment(Err(error(
            ErrorKind::MfaAlreadyEnabled,
            "This account already has a second factor. To enrol a new phone, ask an administrator to reset it.",
        ))),
    );
    assert!(matches!(enrol_step(&state), EnrolStep::AlreadyOn(m) if m.contains("administrator")));
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.screen, Screen::Patients);
    assert!(state.session.second_factor);
}

#[test]
fn an_enrolment_that_fails_to_start_says_why_and_enter_tries_again() {
    let mut state = logged_out();
    let request = logged_in_must_enrol(&mut state);
    respond(
        &mut state,
        request,
        Response::MfaEnrolment(Err(error(
            ErrorKind::RateLimited { retry_after_s: 3 },
            "Too many requests.",
        ))),
    );
    match enrol_step(&state) {
        EnrolStep::Failed(message) => assert!(message.contains("wait 3 seconds"), "{message}"),
        other => panic!("the failure should show, got {other:?}"),
    }
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::EnrollMfa);
    // A stale answer (the first request's) is dropped.
    respond(
        &mut state,
        request - 1,
        Response::MfaEnrolment(Ok(enrolment())),
    );
    assert_eq!(enrol_step(&state), &EnrolStep::Starting);
    respond(&mut state, request, Response::MfaEnrolment(Ok(enrolment())));
    assert!(matches!(enrol_step(&state), EnrolStep::Scan { .. }));

    // The pending secret undone on the server: a new one is needed, and said so.
    type_text(&mut state, "123456");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::MfaConfirmed(Err(error(
            ErrorKind::InvalidState,
            "No enrolment was started.",
        ))),
    );
    match enrol_step(&state) {
        EnrolStep::Failed(message) => assert!(message.contains("start again"), "{message}"),
        other => panic!("the failure should show, got {other:?}"),
    }
}

#[test]
fn a_403_that_asks_for_a_second_factor_opens_its_setup() {
    let mut state = logged_out();
    type_text(&mut state, "dr.grey@clinic.test");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "s3cret");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(&mut state, request, Response::Login(Ok(user())));
    let (list, _) = calls(&effects)
        .into_iter()
        .find(|(_, c)| matches!(c, Call::ListPatients(_)))
        .expect("the patient list is asked for");
    let effects = respond(
        &mut state,
        list,
        Response::Patients(Err(error(
            ErrorKind::MfaEnrollmentRequired,
            "Your role needs a second factor.",
        ))),
    );
    assert_eq!(state.screen, Screen::MfaEnroll);
    assert!(state.mfa_enroll.required);
    assert_eq!(only_call(&effects).1, Call::EnrollMfa);
    assert!(state.toast.is_none());

    // Another 403 meanwhile does not start it again.
    let effects = respond(
        &mut state,
        99,
        Response::Unsigned(Err(error(
            ErrorKind::MfaEnrollmentRequired,
            "Your role needs a second factor.",
        ))),
    );
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(enrol_step(&state), &EnrolStep::Starting);
}

#[test]
fn while_the_code_is_with_the_server_nothing_leaves_the_recovery_codes_unseen() {
    let mut state = scanning(false);
    type_text(&mut state, "123456");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert_eq!(state.screen, Screen::MfaEnroll);
    // Quitting asks first.
    update(&mut state, ctrl('c'));
    assert!(state.quit_asked && !state.quit);
    update(&mut state, chr('n'));
    respond(
        &mut state,
        request,
        Response::MfaConfirmed(Ok(recovery_codes())),
    );
    assert!(matches!(enrol_step(&state), EnrolStep::Codes { .. }));
}

#[test]
fn a_server_lost_during_a_required_setup_is_asked_with_a_call_the_setup_may_make() {
    let mut state = scanning(true);
    type_text(&mut state, "123456");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let effects = respond(
        &mut state,
        request,
        Response::MfaConfirmed(Err(error(
            ErrorKind::Unreachable,
            "Server unreachable — check the address and your connection; retrying.",
        ))),
    );
    assert!(state.offline.is_some());
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::Reconnect,
            ..
        }]
    ));
    // The code typed stays for the next Enter.
    assert_eq!(state.mfa_enroll.code.value, "123456");
    assert!(state.mfa_enroll.error.is_some());
    // The unsigned count would answer 403 until the second factor is on: `me` asks instead.
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    assert_eq!(call, Call::Me);
    let effects = respond(&mut state, request, Response::Me(Ok(user())));
    assert!(state.offline.is_none());
    assert!(
        calls(&effects).is_empty(),
        "nothing else is loaded yet: {effects:?}"
    );
    assert_eq!(state.screen, Screen::MfaEnroll);
}

//! The second factor at the workstation: the login's code step, and the sign dialog asking
//! for the code when the server says the doctor has one.

use super::*;

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

#[test]
fn an_account_that_must_enrol_is_told_how() {
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
    respond(
        &mut state,
        list,
        Response::Patients(Err(error(
            ErrorKind::MfaEnrollmentRequired,
            "Your role needs a second factor.",
        ))),
    );
    let toast = state.toast.as_ref().expect("a notice");
    assert!(
        toast.text.contains("synapse auth mfa enroll"),
        "{}",
        toast.text
    );
}

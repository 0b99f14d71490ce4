//! The administrator's workstation: signing in lands on the users screen; each account action
//! calls the server (the destructive ones only after a yes naming the account); a password
//! reset is typed twice and shows the server's refusal on the field; the audit browser
//! filters, pages by cursor forward and back, opens a row and exports what the filter keeps.

use super::*;
use crate::model::admin::{AdminUser, AuditEvent, SessionsRevoked};
use crate::model::envelope::FieldError;
use crate::tui::components::dialogs::{AccountAction, Dialog};
use crate::tui::screens::audit::PAGE_SIZE as AUDIT_PAGE;

pub(super) fn admin() -> User {
    User {
        id: Uuid::from_u128(9),
        email: "adm@clinic.test".into(),
        full_name: "Ada Admin".into(),
        role: Role::Admin,
        created_at: at(),
    }
}

pub(super) fn account(n: u128, email: &str, role: Role) -> AdminUser {
    AdminUser {
        id: Uuid::from_u128(0x5000 + n),
        email: email.into(),
        full_name: format!("Person {n}"),
        role,
        created_at: at(),
        locked_until: None,
        failed_logins: 0,
        disabled: false,
    }
}

/// Three accounts; the second (a doctor) locked for the next quarter hour.
pub(super) fn accounts() -> Vec<AdminUser> {
    let mut locked = account(2, "doc2@clinic.test", Role::Doctor);
    locked.locked_until = Some(at() + chrono::Duration::minutes(15));
    locked.failed_logins = 5;
    vec![
        account(1, "doc@clinic.test", Role::Doctor),
        locked,
        account(3, "rec@clinic.test", Role::Receptionist),
    ]
}

/// An admin just signed in, the accounts loaded.
fn on_users() -> State {
    let mut state = logged_out();
    state.wall_now = at();
    let effects = respond(&mut state, 0, Response::Login(Ok(admin())));
    let (request, call) = only_call(&effects);
    assert_eq!(call, Call::Users);
    let effects = respond(&mut state, request, Response::Users(Ok(accounts())));
    assert!(effects.is_empty(), "{effects:?}");
    state
}

fn event(n: u128, action: &str, outcome: &str) -> AuditEvent {
    AuditEvent {
        id: Uuid::from_u128(0x7000 + n),
        at: at() - chrono::Duration::minutes(n as i64),
        user_id: Some(Uuid::from_u128(0x5001)),
        action: action.into(),
        resource_type: Some("patient".into()),
        resource_id: Some(patient_id(0).to_string()),
        patient_id: Some(patient_id(0)),
        outcome: outcome.into(),
        request_id: format!("req-{n}"),
        client_request_id: None,
        ip: Some("127.0.0.1".into()),
    }
}

fn audit_page(offset: u64, count: u128, total: u64) -> Page<AuditEvent> {
    Page {
        items: (0..count)
            .map(|n| event(offset as u128 + n, "patient.read", "success"))
            .collect(),
        pagination: Pagination {
            total,
            limit: AUDIT_PAGE,
            offset,
            has_more: offset + (count as u64) < total,
            next_cursor: (offset + (count as u64) < total)
                .then(|| format!("cursor-after-{}", offset + count as u64)),
        },
    }
}

/// On the audit browser, its first page (of 120 rows) loaded.
fn on_audit() -> State {
    let mut state = on_users();
    let (request, call) = only_call(&update(&mut state, chr('5')));
    assert_eq!(state.screen, Screen::Audit);
    let Call::Audit(params) = call else {
        panic!("{call:?}")
    };
    assert_eq!(
        (params.limit, params.offset, params.cursor),
        (Some(AUDIT_PAGE), None, None)
    );
    respond(
        &mut state,
        request,
        Response::Audit(Ok(audit_page(0, u128::from(AUDIT_PAGE), 120))),
    );
    state
}

#[test]
fn an_admin_lands_on_the_users_screen_without_the_clinical_calls() {
    let state = on_users();
    assert_eq!(state.screen, Screen::Users);
    assert_eq!(state.users.visible().len(), 3);
    // No report counts are asked for as time passes: an admin may not read them.
    let mut state = state;
    let effects = update(&mut state, Action::Tick(10 * 60 * 1000));
    assert!(
        !calls(&effects)
            .iter()
            .any(|(_, c)| matches!(c, Call::Unsigned)),
        "{effects:?}"
    );
}

#[test]
fn a_doctor_still_lands_on_the_patient_list() {
    let mut state = logged_out();
    let effects = respond(&mut state, 0, Response::Login(Ok(user())));
    assert_eq!(state.screen, Screen::Patients);
    assert!(!calls(&effects).iter().any(|(_, c)| *c == Call::Users));
}

#[test]
fn the_filter_keeps_matching_accounts_and_esc_clears_it() {
    let mut state = on_users();
    update(&mut state, chr('f'));
    assert!(state.users.filtering);
    type_text(&mut state, "REC");
    assert_eq!(state.users.visible().len(), 1);
    assert_eq!(
        state.users.selected_user().map(|u| u.email.as_str()),
        Some("rec@clinic.test")
    );
    // Enter keeps the filter and gives the keys back to the list: `d` is disable again.
    update(&mut state, key(KeyCode::Enter));
    assert!(!state.users.filtering);
    update(&mut state, chr('d'));
    assert!(matches!(
        &state.dialog,
        Some(Dialog::ConfirmAccount { email, .. }) if email == "rec@clinic.test"
    ));
    update(&mut state, chr('n'));
    update(&mut state, chr('f'));
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.users.visible().len(), 3);
}

#[test]
fn unlock_and_enable_call_at_once_and_the_row_shows_the_answer() {
    let mut state = on_users();
    update(&mut state, key(KeyCode::Down));
    let locked = accounts()[1].clone();
    let (request, call) = only_call(&update(&mut state, chr('u')));
    assert_eq!(call, Call::Account(AccountAction::Unlock, locked.id));
    let unlocked = AdminUser {
        locked_until: None,
        failed_logins: 0,
        ..locked.clone()
    };
    respond(
        &mut state,
        request,
        Response::AccountChanged(AccountAction::Unlock, Ok(unlocked)),
    );
    assert_eq!(state.users.selected_user().unwrap().locked_until, None);
    assert!(
        state
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("Unlocked doc2@clinic.test")
    );

    let (_, call) = only_call(&update(&mut state, chr('e')));
    assert_eq!(call, Call::Account(AccountAction::Enable, locked.id));
}

#[test]
fn disable_asks_first_naming_the_account_and_only_yes_disables() {
    let mut state = on_users();
    let target = accounts()[0].clone();
    assert!(update(&mut state, chr('d')).is_empty());
    assert!(matches!(
        &state.dialog,
        Some(Dialog::ConfirmAccount { action: AccountAction::Disable, email, .. })
            if email == &target.email
    ));
    // Any other key leaves the account alone.
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(state.dialog.is_none());
    update(&mut state, chr('d'));
    let (request, call) = only_call(&update(&mut state, chr('y')));
    assert_eq!(call, Call::Account(AccountAction::Disable, target.id));
    respond(
        &mut state,
        request,
        Response::AccountChanged(
            AccountAction::Disable,
            Ok(AdminUser {
                disabled: true,
                ..target
            }),
        ),
    );
    assert!(state.users.selected_user().unwrap().disabled);
}

#[test]
fn disabling_yourself_shows_the_servers_refusal() {
    let mut state = on_users();
    update(&mut state, chr('d'));
    let (request, _) = only_call(&update(&mut state, chr('y')));
    respond(
        &mut state,
        request,
        Response::AccountChanged(
            AccountAction::Disable,
            Err(error(
                ErrorKind::InvalidState,
                "You cannot disable your own account.",
            )),
        ),
    );
    let toast = state.toast.as_ref().unwrap();
    assert_eq!(toast.kind, ToastKind::Error);
    assert!(toast.text.contains("own account"));
}

#[test]
fn ending_sessions_asks_first_and_says_how_many_ended() {
    let mut state = on_users();
    let target = accounts()[0].clone();
    update(&mut state, chr('x'));
    assert!(matches!(
        &state.dialog,
        Some(Dialog::ConfirmAccount { action: AccountAction::EndSessions, email, .. })
            if email == &target.email
    ));
    let (request, call) = only_call(&update(&mut state, chr('y')));
    assert_eq!(call, Call::EndSessions(target.id));
    respond(
        &mut state,
        request,
        Response::SessionsEnded(Ok(SessionsRevoked {
            user_id: target.id,
            revoked: 2,
        })),
    );
    assert!(
        state
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("Ended 2 sessions of doc@clinic.test")
    );
}

#[test]
fn a_password_reset_is_typed_twice_and_shows_the_servers_rule_on_the_field() {
    let mut state = on_users();
    let target = accounts()[0].clone();
    update(&mut state, chr('p'));
    assert!(matches!(&state.dialog, Some(Dialog::ResetPassword(r)) if r.email == target.email));
    // Typed letters are the password's, not commands.
    type_text(&mut state, "short");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "shorT");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::ResetPassword(reset)) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert!(reset.error.as_deref().unwrap().contains("differ"));
    assert!(reset.again.value.is_empty());

    type_text(&mut state, "short");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ResetPassword {
            id: target.id,
            password: "short".into()
        }
    );
    let refused = error(
        ErrorKind::Validation {
            fields: vec![FieldError {
                field: "password".into(),
                message: "must be at least 8 characters".into(),
            }],
        },
        "password: must be at least 8 characters",
    );
    respond(&mut state, request, Response::PasswordReset(Err(refused)));
    let Some(Dialog::ResetPassword(reset)) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert!(!reset.busy);
    assert_eq!(
        reset.error.as_deref(),
        Some("password: must be at least 8 characters")
    );

    type_text(&mut state, "long enough");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "long enough");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(&mut state, request, Response::PasswordReset(Ok(target)));
    assert!(state.dialog.is_none());
    assert!(
        state
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("New password set")
    );
}

#[test]
fn esc_leaves_a_password_reset_without_calling() {
    let mut state = on_users();
    update(&mut state, chr('p'));
    type_text(&mut state, "whatever1");
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    assert!(state.dialog.is_none());
}

#[test]
fn the_audit_browser_pages_by_cursor_forward_and_back_and_drops_stale_pages() {
    let mut state = on_audit();
    let (request, call) = only_call(&update(&mut state, chr('n')));
    let Call::Audit(params) = call else {
        panic!("{call:?}")
    };
    // The next page starts after the page shown, by its cursor, never by an offset.
    assert_eq!(params.offset, None);
    assert_eq!(params.cursor.as_deref(), Some("cursor-after-50"));
    // An answer to an older request is dropped.
    respond(
        &mut state,
        request - 1,
        Response::Audit(Ok(audit_page(0, 3, 3))),
    );
    assert_eq!(
        state.audit.rows.ready().unwrap().items.len(),
        AUDIT_PAGE as usize
    );
    respond(
        &mut state,
        request,
        Response::Audit(Ok(audit_page(50, 50, 120))),
    );
    let (request, call) = only_call(&update(&mut state, chr('n')));
    assert!(matches!(&call, Call::Audit(p) if p.cursor.as_deref() == Some("cursor-after-100")));
    respond(
        &mut state,
        request,
        Response::Audit(Ok(audit_page(100, 20, 120))),
    );
    // The last page: next does nothing; previous goes back a page at a time, by the cursors
    // the pages were read with, to the first page (no cursor), and no further.
    assert!(update(&mut state, chr('n')).is_empty());
    let (_, call) = only_call(&update(&mut state, chr('p')));
    assert!(matches!(&call, Call::Audit(p) if p.cursor.as_deref() == Some("cursor-after-50")));
    let (_, call) = only_call(&update(&mut state, chr('p')));
    assert!(matches!(&call, Call::Audit(p) if p.cursor.is_none() && p.offset.is_none()));
    assert!(update(&mut state, chr('p')).is_empty());
}

#[test]
fn a_refused_audit_cursor_says_how_to_start_again() {
    let mut state = on_audit();
    let (request, _) = only_call(&update(&mut state, chr('n')));
    respond(
        &mut state,
        request,
        Response::Audit(Err(error(
            ErrorKind::Validation {
                fields: vec![FieldError::new(
                    "cursor",
                    "is not a cursor of this list; start again without a cursor",
                )],
            },
            "cursor: is not a cursor of this list; start again without a cursor",
        ))),
    );
    let Load::Failed(message) = &state.audit.rows else {
        panic!("{:?}", state.audit.rows)
    };
    assert!(message.contains("x clears it"), "{message}");
    // x starts again at the first page, without a cursor.
    let (_, call) = only_call(&update(&mut state, chr('x')));
    assert!(matches!(&call, Call::Audit(p) if p.cursor.is_none()));
}

#[test]
fn the_audit_filter_reads_an_email_as_the_account_and_refuses_what_it_cannot_read() {
    let mut state = on_audit();
    update(&mut state, chr('f'));
    type_text(&mut state, "nobody@clinic.test");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::AuditFilter(filter)) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert_eq!(filter.error.as_ref().map(|e| e.0), Some(0));

    // The account by its email, an outcome and a date range.
    for _ in 0.."nobody@clinic.test".len() {
        update(&mut state, key(KeyCode::Backspace));
    }
    type_text(&mut state, "DOC2@clinic.test");
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "not-a-uuid");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::AuditFilter(filter)) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert_eq!(filter.error.as_ref().map(|e| e.0), Some(1));
    for _ in 0.."not-a-uuid".len() {
        update(&mut state, key(KeyCode::Backspace));
    }
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "auth.login");
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "failure");
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "2026-01-01");
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "2026-01-31");
    state.audit.cursor = Some("cursor-after-50".into());
    state.audit.back.push(None);
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert!(state.dialog.is_none());
    let Call::Audit(params) = call else {
        panic!("{call:?}")
    };
    assert_eq!(params.user_id, Some(accounts()[1].id));
    assert_eq!(params.patient_id, None);
    assert_eq!(params.action.as_deref(), Some("auth.login"));
    assert_eq!(params.outcome.as_deref(), Some("failure"));
    assert_eq!(params.since.as_deref(), Some("2026-01-01"));
    assert_eq!(params.until.as_deref(), Some("2026-01-31"));
    // A new filter starts at its first page.
    assert_eq!((params.offset, params.cursor), (None, None));
    assert!(state.audit.back.is_empty());

    // x clears every filter.
    let (_, call) = only_call(&update(&mut state, chr('x')));
    assert!(matches!(call, Call::Audit(p) if p.user_id.is_none() && p.outcome.is_none()));
}

#[test]
fn a_refused_audit_filter_says_why_where_the_rows_go() {
    let mut state = on_audit();
    let (request, _) = only_call(&update(&mut state, chr('r')));
    respond(
        &mut state,
        request,
        Response::Audit(Err(error(
            ErrorKind::Validation { fields: vec![] },
            "since: must be a date or an RFC 3339 time",
        ))),
    );
    assert!(matches!(&state.audit.rows, Load::Failed(m) if m.contains("since")));
}

#[test]
fn enter_opens_an_audit_rows_details_and_any_key_closes_them() {
    let mut state = on_audit();
    update(&mut state, key(KeyCode::Down));
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(matches!(&state.dialog, Some(Dialog::AuditDetails(e)) if e.request_id == "req-1"));
    update(&mut state, chr('q'));
    assert!(state.dialog.is_none());
    assert_eq!(state.screen, Screen::Audit);
}

#[test]
fn the_export_writes_the_filtered_rows_to_the_typed_path_and_says_where() {
    let mut state = on_audit();
    state.settings.export_dir = "/data/synapse".into();
    state.audit.filter.outcome = Some("denied".into());
    update(&mut state, chr('w'));
    let Some(Dialog::ExportAudit { path, .. }) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert!(
        path.value.starts_with("/data/synapse/audit-"),
        "{}",
        path.value
    );
    // The whole offered path is selected: typing replaces it.
    type_text(&mut state, "/tmp/denied.jsonl");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let Call::ExportAudit { params, path } = call else {
        panic!("{call:?}")
    };
    assert_eq!(path, std::path::PathBuf::from("/tmp/denied.jsonl"));
    assert_eq!(params.outcome.as_deref(), Some("denied"));
    assert_eq!(params.offset, None);
    // A file that cannot be written says so in the dialog, which stays for another path.
    respond(
        &mut state,
        request,
        Response::AuditExported(Err("Cannot write /tmp/denied.jsonl: denied".into())),
    );
    assert!(matches!(
        &state.dialog,
        Some(Dialog::ExportAudit { error: Some(e), busy: false, .. }) if e.contains("Cannot write")
    ));
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    respond(
        &mut state,
        request,
        Response::AuditExported(Ok(("/tmp/denied.jsonl".into(), 7))),
    );
    assert!(state.dialog.is_none());
    assert_eq!(
        state.toast.as_ref().unwrap().text,
        "Wrote 7 audit rows to /tmp/denied.jsonl"
    );
}

#[test]
fn an_admin_reconnects_by_asking_who_is_logged_in() {
    let mut state = on_users();
    state.offline = Some("unreachable".into());
    let (request, call) = only_call(&update(&mut state, Action::Timer(Timer::Reconnect)));
    assert_eq!(
        call,
        Call::Me,
        "not the report counts, which answer 403 to an admin"
    );
    let effects = respond(
        &mut state,
        request,
        Response::Me(Err(error(ErrorKind::Unreachable, "unreachable"))),
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::After {
            timer: Timer::Reconnect,
            ..
        }]
    ));
}

#[test]
fn a_new_account_is_written_field_by_field_and_shows_the_servers_refusal_on_its_field() {
    let mut state = on_users();
    update(&mut state, chr('n'));
    assert!(matches!(state.dialog, Some(Dialog::NewUser(_))));
    type_text(&mut state, "new@clinic.test");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "Nora New");
    update(&mut state, key(KeyCode::Enter));
    // The role is a choice: → steps from doctor to receptionist; typed letters do nothing.
    update(&mut state, key(KeyCode::Right));
    type_text(&mut state, "x");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "password123");
    update(&mut state, key(KeyCode::Enter));
    type_text(&mut state, "password124");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let Some(Dialog::NewUser(new)) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert_eq!(new.error.as_ref().map(|e| e.0), Some(4));
    type_text(&mut state, "password123");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::CreateUser(crate::model::admin::NewUser {
            email: "new@clinic.test".into(),
            full_name: "Nora New".into(),
            role: Role::Receptionist,
            password: "password123".into(),
        })
    );
    let taken = error(
        ErrorKind::Validation {
            fields: vec![FieldError {
                field: "email".into(),
                message: "is already used".into(),
            }],
        },
        "email: is already used",
    );
    respond(&mut state, request, Response::UserCreated(Err(taken)));
    let Some(Dialog::NewUser(new)) = &state.dialog else {
        panic!("{:?}", state.dialog)
    };
    assert_eq!(new.error, Some((0, "email: is already used".to_string())));
    assert_eq!(new.focus, 0);
    assert!(new.fields[3].value.is_empty() && new.fields[4].value.is_empty());
    assert!(!new.busy);

    // Made: the dialog closes and the list is asked for again, with the new account.
    let new_account = account(4, "new2@clinic.test", Role::Receptionist);
    let effects = respond(&mut state, request, Response::UserCreated(Ok(new_account)));
    assert!(state.dialog.is_none());
    assert_eq!(only_call(&effects).1, Call::Users);
    assert!(
        state
            .toast
            .as_ref()
            .unwrap()
            .text
            .contains("Created new2@clinic.test")
    );
}

//! The patient form: a receptionist registers a patient for a doctor picked from the active
//! doctors, is asked before registering a patient of the same name and date of birth, sees
//! rejected fields under those fields, and changes demographics and contacts; a doctor changes
//! the chart's details and allergies and the banner shows them at once.

use super::*;
use crate::model::envelope::FieldError;
use crate::model::patient::{
    Allergy, AllergyStatus, DoctorSummary, NewPatient, PatientUpdate, Symptom, TimeSpan, TimeUnit,
};
use crate::tui::components::dialogs::patient_form::{FormStep, Slot};
use crate::tui::components::dialogs::{Dialog, PatientForm};

fn receptionist() -> State {
    let mut state = with_patients(3, None);
    if let Some(user) = &mut state.session.user {
        user.role = Role::Receptionist;
        user.full_name = "Front Desk".into();
    }
    state
}

fn doctors() -> Vec<DoctorSummary> {
    vec![
        DoctorSummary {
            id: Uuid::from_u128(0xd1),
            full_name: "Dr Ada Lovelace".into(),
        },
        DoctorSummary {
            id: Uuid::from_u128(0xd2),
            full_name: "Dr Zed Brown".into(),
        },
    ]
}

fn form(state: &State) -> &PatientForm {
    match &state.dialog {
        Some(Dialog::PatientForm(form)) => form,
        other => panic!("no patient form open: {other:?}"),
    }
}

/// Moves the form's focus to `slot` with Tab.
fn tab_to(state: &mut State, slot: Slot) {
    for _ in 0..20 {
        if form(state).focused() == slot {
            return;
        }
        update(state, key(KeyCode::Tab));
    }
    panic!("no {slot:?} in the form");
}

/// A receptionist's form with the doctors loaded and a patient typed, doctor B picked.
fn typed_registration() -> State {
    let mut state = receptionist();
    let (request, call) = only_call(&update(&mut state, chr('n')));
    assert_eq!(call, Call::Doctors);
    assert!(respond(&mut state, request, Response::Doctors(Ok(doctors()))).is_empty());
    assert!(type_text(&mut state, "Walk In").is_empty());
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "1990-05-06");
    update(&mut state, key(KeyCode::Tab));
    update(&mut state, key(KeyCode::Right));
    tab_to(&mut state, Slot::Phone);
    type_text(&mut state, "98450 12345");
    tab_to(&mut state, Slot::Doctor);
    update(&mut state, key(KeyCode::Right));
    state
}

fn registered(new: &NewPatient) -> Patient {
    let mut p = patient(7);
    p.summary.full_name = new.full_name.clone();
    p.summary.mrn = "MRN-000042".into();
    p
}

#[test]
fn a_receptionist_registers_a_patient_for_the_doctor_picked_from_the_list() {
    let mut state = typed_registration();
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::FindDuplicates("Walk In".into()));
    assert_eq!(form(&state).step, FormStep::Checking);
    let found = SearchResults {
        items: vec![summary(1)],
        count: 1,
    };
    let (request, call) = only_call(&respond(
        &mut state,
        request,
        Response::Duplicates(Ok(found)),
    ));
    let Call::CreatePatient(new) = call else {
        panic!("expected a registration, got {call:?}");
    };
    assert_eq!(new.full_name, "Walk In");
    assert_eq!(
        new.date_of_birth,
        NaiveDate::from_ymd_opt(1990, 5, 6).unwrap()
    );
    assert_eq!(new.sex, Sex::Male);
    assert_eq!(new.phone.as_deref(), Some("98450 12345"));
    assert_eq!(new.doctor_id, Some(Uuid::from_u128(0xd2)));

    let effects = respond(
        &mut state,
        request,
        Response::PatientSaved(Ok(registered(&new))),
    );
    assert!(state.dialog.is_none());
    assert!(state.toast.as_ref().unwrap().text.contains("MRN-000042"));
    // The list shows the new patient.
    assert!(matches!(only_call(&effects).1, Call::ListPatients(_)));
}

#[test]
fn a_patient_of_the_same_name_and_birth_date_is_named_by_mrn_and_registered_only_on_yes() {
    let mut state = typed_registration();
    let mut twin = summary(9);
    twin.full_name = "walk  IN".into();
    twin.date_of_birth = NaiveDate::from_ymd_opt(1990, 5, 6).unwrap();
    let found = || SearchResults {
        items: vec![summary(1), twin.clone()],
        count: 2,
    };
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert!(respond(&mut state, request, Response::Duplicates(Ok(found()))).is_empty());
    assert_eq!(
        form(&state).step,
        FormStep::Duplicate {
            mrn: "MRN-00009".into()
        }
    );
    // No goes back to the form, nothing sent.
    assert!(update(&mut state, chr('n')).is_empty());
    assert_eq!(form(&state).step, FormStep::Editing);
    assert_eq!(form(&state).full_name.value, "Walk In");

    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert!(respond(&mut state, request, Response::Duplicates(Ok(found()))).is_empty());
    let (_, call) = only_call(&update(&mut state, chr('y')));
    assert!(matches!(call, Call::CreatePatient(_)), "{call:?}");
    assert_eq!(form(&state).step, FormStep::Sending);
}

#[test]
fn the_form_checks_before_sending_and_says_what_is_wrong_on_each_field() {
    let mut state = receptionist();
    let (request, _) = only_call(&update(&mut state, chr('n')));
    respond(&mut state, request, Response::Doctors(Ok(vec![])));
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "3 Feb 1980");
    tab_to(&mut state, Slot::Email);
    type_text(&mut state, "not an email");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let f = form(&state);
    assert_eq!(f.error_of(Slot::FullName), Some("must not be empty"));
    assert!(
        f.error_of(Slot::DateOfBirth)
            .unwrap()
            .contains("YYYY-MM-DD")
    );
    assert!(f.error_of(Slot::Email).is_some());
    assert!(
        f.error_of(Slot::Doctor)
            .unwrap()
            .contains("pick the doctor")
    );
    // The focus goes to the first rejected field; typing there clears its message.
    assert_eq!(f.focused(), Slot::FullName);
    type_text(&mut state, "A");
    assert_eq!(form(&state).error_of(Slot::FullName), None);
    assert!(form(&state).error_of(Slot::Email).is_some());
}

#[test]
fn the_servers_rejected_fields_go_under_their_fields() {
    let mut state = typed_registration();
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let empty = SearchResults {
        items: vec![],
        count: 0,
    };
    let (request, _) = only_call(&respond(
        &mut state,
        request,
        Response::Duplicates(Ok(empty)),
    ));
    let rejected = error(
        ErrorKind::Validation {
            fields: vec![FieldError::new(
                "doctor_id",
                "is not an active doctor of this clinic",
            )],
        },
        "Invalid input.",
    );
    assert!(respond(&mut state, request, Response::PatientSaved(Err(rejected))).is_empty());
    let f = form(&state);
    assert_eq!(f.step, FormStep::Editing);
    assert_eq!(f.focused(), Slot::Doctor);
    assert_eq!(
        f.error_of(Slot::Doctor),
        Some("is not an active doctor of this clinic")
    );
    assert_eq!(f.full_name.value, "Walk In", "what was typed stays");
}

#[test]
fn a_receptionist_changes_a_patients_contacts_from_the_list_sending_only_what_changed() {
    let mut state = receptionist();
    assert!(update(&mut state, chr('e')).is_empty());
    assert_eq!(form(&state).full_name.value, "Patient Number0");
    assert!(!form(&state).slots.contains(&Slot::AllergyStatus));
    tab_to(&mut state, Slot::Phone);
    for _ in 0..20 {
        update(&mut state, key(KeyCode::Backspace));
    }
    type_text(&mut state, "0161 496 0000");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::UpdatePatient {
            id: patient_id(0),
            update: Box::new(PatientUpdate {
                phone: Some(Some("0161 496 0000".into())),
                ..PatientUpdate::default()
            })
        }
    );
    let effects = respond(&mut state, request, Response::PatientSaved(Ok(patient(0))));
    assert!(state.dialog.is_none());
    assert!(matches!(only_call(&effects).1, Call::ListPatients(_)));
}

#[test]
fn enter_with_nothing_changed_says_so_and_sends_nothing() {
    let mut state = receptionist();
    update(&mut state, chr('e'));
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(
        form(&state)
            .error
            .as_deref()
            .unwrap()
            .contains("Nothing changed")
    );
}

#[test]
fn a_doctor_changes_the_allergies_from_the_chart_and_the_banner_shows_them_at_once() {
    let mut state = on_chart();
    assert!(update(&mut state, chr('e')).is_empty());
    assert_eq!(form(&state).allergy_status, AllergyStatus::NotRecorded);
    tab_to(&mut state, Slot::AllergyStatus);
    update(&mut state, key(KeyCode::Right));
    update(&mut state, key(KeyCode::Right));
    assert_eq!(form(&state).allergy_status, AllergyStatus::Known);
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "Penicillin / rash / severe; Latex");
    let (request, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let allergies = Allergies {
        status: AllergyStatus::Known,
        items: vec![
            Allergy {
                substance: "Penicillin".into(),
                reaction: Some("rash".into()),
                severity: Some("severe".into()),
            },
            Allergy {
                substance: "Latex".into(),
                reaction: None,
                severity: None,
            },
        ],
    };
    assert_eq!(
        call,
        Call::UpdatePatient {
            id: patient_id(0),
            update: Box::new(PatientUpdate {
                allergies: Some(allergies.clone()),
                ..PatientUpdate::default()
            })
        }
    );
    let mut changed = patient(0);
    changed.allergies = allergies.clone();
    assert!(respond(&mut state, request, Response::PatientSaved(Ok(changed))).is_empty());
    assert!(state.dialog.is_none());
    assert_eq!(
        crate::tui::screens::pinned_patient(&state).map(|p| &p.allergies),
        Some(&allergies)
    );
}

#[test]
fn known_allergies_need_one_named_before_anything_is_sent() {
    let mut state = on_chart();
    update(&mut state, chr('e'));
    tab_to(&mut state, Slot::AllergyStatus);
    update(&mut state, key(KeyCode::Left));
    assert_eq!(form(&state).allergy_status, AllergyStatus::Known);
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(form(&state).error_of(Slot::Allergies).is_some());
    assert_eq!(form(&state).focused(), Slot::Allergies);
}

#[test]
fn registration_offers_every_field_of_a_new_patient_and_sends_them() {
    let mut state = typed_registration();
    assert_eq!(
        form(&state).slots,
        vec![
            Slot::FullName,
            Slot::DateOfBirth,
            Slot::Sex,
            Slot::Phone,
            Slot::Email,
            Slot::Address,
            Slot::ReferredBy,
            Slot::Doctor,
            Slot::IllnessDuration,
            Slot::AllergyStatus,
            Slot::Allergies,
            Slot::Alerts,
            Slot::Symptoms,
        ]
    );
    tab_to(&mut state, Slot::Email);
    type_text(&mut state, "walk.in@example.test");
    tab_to(&mut state, Slot::Address);
    type_text(&mut state, "4 Mill Lane");
    tab_to(&mut state, Slot::ReferredBy);
    type_text(&mut state, "Dr R. Nair (GP)");
    tab_to(&mut state, Slot::IllnessDuration);
    type_text(&mut state, "3 weeks");
    tab_to(&mut state, Slot::AllergyStatus);
    // not recorded → none known → known
    update(&mut state, key(KeyCode::Right));
    update(&mut state, key(KeyCode::Right));
    tab_to(&mut state, Slot::Allergies);
    type_text(&mut state, "Penicillin / rash / moderate; Latex");
    tab_to(&mut state, Slot::Alerts);
    type_text(&mut state, "Lives alone; Fall risk");
    tab_to(&mut state, Slot::Symptoms);
    type_text(
        &mut state,
        "Low mood / moderate / daily / 2 months / worse in the morning; Poor sleep",
    );
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let (_, call) = only_call(&respond(
        &mut state,
        request,
        Response::Duplicates(Ok(SearchResults {
            items: vec![],
            count: 0,
        })),
    ));
    let Call::CreatePatient(new) = call else {
        panic!("expected a registration, got {call:?}");
    };
    assert_eq!(new.email.as_deref(), Some("walk.in@example.test"));
    assert_eq!(new.address.as_deref(), Some("4 Mill Lane"));
    assert_eq!(new.referred_by.as_deref(), Some("Dr R. Nair (GP)"));
    assert_eq!(
        new.illness_duration,
        Some(TimeSpan {
            value: 3,
            unit: TimeUnit::Weeks
        })
    );
    let allergies = new.allergies.clone().expect("allergies sent");
    assert_eq!(allergies.status, AllergyStatus::Known);
    assert_eq!(
        allergies.items,
        vec![
            Allergy {
                substance: "Penicillin".into(),
                reaction: Some("rash".into()),
                severity: Some("moderate".into()),
            },
            Allergy {
                substance: "Latex".into(),
                reaction: None,
                severity: None,
            },
        ]
    );
    assert_eq!(new.alerts, vec!["Lives alone", "Fall risk"]);
    assert_eq!(
        new.symptoms,
        vec![
            Symptom {
                name: "Low mood".into(),
                severity: Some("moderate".into()),
                frequency: Some("daily".into()),
                duration: Some(TimeSpan {
                    value: 2,
                    unit: TimeUnit::Months
                }),
                notes: Some("worse in the morning".into()),
            },
            Symptom {
                name: "Poor sleep".into(),
                severity: None,
                frequency: None,
                duration: None,
                notes: None,
            },
        ]
    );
    assert_eq!(new.doctor_id, Some(Uuid::from_u128(0xd2)));
}

#[test]
fn a_blank_registration_sends_no_clinical_field() {
    let mut state = typed_registration();
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let (_, call) = only_call(&respond(
        &mut state,
        request,
        Response::Duplicates(Ok(SearchResults {
            items: vec![],
            count: 0,
        })),
    ));
    let Call::CreatePatient(new) = call else {
        panic!("expected a registration, got {call:?}");
    };
    assert_eq!(
        (
            new.illness_duration,
            new.allergies.clone(),
            new.alerts.clone(),
            new.symptoms.clone()
        ),
        (None, None, vec![], vec![])
    );
}

#[test]
fn the_clinical_fields_are_checked_before_sending_and_the_servers_words_go_under_them() {
    let mut state = typed_registration();
    tab_to(&mut state, Slot::IllnessDuration);
    type_text(&mut state, "a while");
    tab_to(&mut state, Slot::Allergies);
    type_text(&mut state, "Penicillin");
    tab_to(&mut state, Slot::Symptoms);
    type_text(&mut state, "Cough / mild / nightly / for ages");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    let f = form(&state);
    assert!(
        f.error_of(Slot::IllnessDuration)
            .unwrap()
            .contains("3 weeks")
    );
    assert!(f.error_of(Slot::Allergies).unwrap().contains("known"));
    assert!(f.error_of(Slot::Symptoms).unwrap().contains("Cough"));
    assert_eq!(f.focused(), Slot::IllnessDuration);

    // Put right, the server's refusal of a nested field lands on its slot.
    let mut state = typed_registration();
    tab_to(&mut state, Slot::Alerts);
    type_text(&mut state, "Fall risk");
    tab_to(&mut state, Slot::Symptoms);
    type_text(&mut state, "Cough / mild / nightly / 2 weeks");
    let (request, _) = only_call(&update(&mut state, key(KeyCode::Enter)));
    let (request, _) = only_call(&respond(
        &mut state,
        request,
        Response::Duplicates(Ok(SearchResults {
            items: vec![],
            count: 0,
        })),
    ));
    let rejected = error(
        ErrorKind::Validation {
            fields: vec![
                FieldError::new("symptoms[0].duration.value", "must be at most 100"),
                FieldError::new("alerts[0]", "must be at most 200 characters"),
                FieldError::new("illness_duration.unit", "is not a unit"),
            ],
        },
        "Invalid input.",
    );
    respond(&mut state, request, Response::PatientSaved(Err(rejected)));
    let f = form(&state);
    assert_eq!(f.error_of(Slot::Symptoms), Some("must be at most 100"));
    assert_eq!(
        f.error_of(Slot::Alerts),
        Some("must be at most 200 characters")
    );
    assert_eq!(f.error_of(Slot::IllnessDuration), Some("is not a unit"));
    assert_eq!(f.error, None, "every message is on its field");
    assert_eq!(f.focused(), Slot::IllnessDuration);
}

#[test]
fn a_receptionists_change_stays_demographics_and_contacts() {
    let mut state = receptionist();
    update(&mut state, chr('e'));
    let slots = &form(&state).slots;
    for slot in [
        Slot::IllnessDuration,
        Slot::AllergyStatus,
        Slot::Allergies,
        Slot::Alerts,
        Slot::Symptoms,
        Slot::ReferredBy,
        Slot::Doctor,
    ] {
        assert!(
            !slots.contains(&slot),
            "{slot:?} in a receptionist's change"
        );
    }
}

#[test]
fn enter_before_the_doctors_arrive_says_to_wait_and_their_arrival_clears_it() {
    let mut state = receptionist();
    let (request, _) = only_call(&update(&mut state, chr('n')));
    type_text(&mut state, "Walk In");
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "1990-05-06");
    assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
    assert!(
        form(&state)
            .error_of(Slot::Doctor)
            .unwrap()
            .contains("still loading")
    );
    respond(&mut state, request, Response::Doctors(Ok(doctors())));
    assert_eq!(form(&state).error_of(Slot::Doctor), None);
    let (_, call) = only_call(&update(&mut state, key(KeyCode::Enter)));
    assert_eq!(call, Call::FindDuplicates("Walk In".into()));
}

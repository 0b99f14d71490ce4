//! `/patients*`: the doctor's list and search (receptionists see every doctor's rows), the
//! chart, registration and updates; `/doctors`, whom a receptionist registers a patient with.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::params;
use crate::model::auth::Role;
use crate::model::envelope::SuccessEnvelope;
use crate::model::page::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, Page, SearchResults};
use crate::model::patient::*;
use crate::model::query::{PatientListParams, PatientSearchParams};
use crate::model::time::now;
use crate::model::validate;
use crate::store::PatientListQuery;

/// A page of patients
///
/// A doctor sees their own patients; a receptionist sees every doctor's.
///
/// Roles: doctor, receptionist.
#[utoipa::path(
    get,
    path = "/api/v1/patients/list",
    tag = "patients",
    operation_id = "listPatients",
    security(("bearer" = [])),
    params(PatientListParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Page<PatientSummary>>),
    ),
)]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<PatientListParams>,
) -> ApiResult<Page<PatientSummary>> {
    let actor = caller
        .permit(&app, &[Role::Doctor, Role::Receptionist])
        .await?;
    let query = PatientListQuery {
        filter: Default::default(),
        search: params
            .search
            .map(|s| validate::patient_search_term("search", &s))
            .transpose()
            .map_err(ApiError::validation)?,
        sort: params.sort.unwrap_or_default(),
        limit: params::list_limit(params.limit)?,
        start: params::page_start(params.offset, params.cursor)?,
    };
    Ok(Success(app.store.list_patients(&actor, &query).await?))
}

/// Search patients (autocomplete)
///
/// Matches, ignoring case and diacritics, the start of any word of the name, the MRN, phone
/// digits (formatting ignored) and the email. Ranked exact > prefix > substring, then most
/// recent visit.
///
/// Roles: doctor, receptionist.
#[utoipa::path(
    get,
    path = "/api/v1/patients/search",
    tag = "patients",
    operation_id = "searchPatients",
    security(("bearer" = [])),
    params(PatientSearchParams),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<SearchResults<PatientSummary>>),
    ),
)]
pub async fn search(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<PatientSearchParams>,
) -> ApiResult<SearchResults<PatientSummary>> {
    let actor = caller
        .permit(&app, &[Role::Doctor, Role::Receptionist])
        .await?;
    let term = validate::patient_search_term("q", params.q.as_deref().unwrap_or_default())
        .map_err(ApiError::validation)?;
    let limit = params::limit(params.limit, DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT)?;
    let items = app.store.search_patients(&actor, &term, limit).await?;
    Ok(Success(SearchResults {
        count: items.len(),
        items,
    }))
}

/// A patient's chart
///
/// Roles: doctor.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    operation_id = "getPatient",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the patient.")),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Patient>),
    ),
)]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<Patient> {
    let actor = caller.permit(&app, &[Role::Doctor]).await?;
    Ok(Success(app.store.get_patient(&actor, id).await?))
}

/// Register a patient
///
/// A doctor registers a patient of their own; a receptionist names the doctor with `doctor_id`.
///
/// Roles: doctor, receptionist.
#[utoipa::path(
    post,
    path = "/api/v1/patients",
    tag = "patients",
    operation_id = "createPatient",
    security(("bearer" = [])),
    request_body = NewPatient,
    responses(
        (status = 201, description = "Created.", body = SuccessEnvelope<Patient>),
    ),
)]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
    Json(body): Json<NewPatient>,
) -> Result<Created<Patient>, ApiError> {
    let actor = caller
        .permit(&app, &[Role::Doctor, Role::Receptionist])
        .await?;
    let doctor_id = match (caller.role, body.doctor_id) {
        (Role::Doctor, None) => caller.user_id,
        (Role::Doctor, Some(id)) if id == caller.user_id => id,
        (Role::Doctor, Some(_)) => {
            return Err(ApiError::field(
                "doctor_id",
                "can only be your own id; a receptionist registers patients for other doctors",
            ));
        }
        (_, Some(id)) => id,
        (_, None) => {
            return Err(ApiError::field(
                "doctor_id",
                "is required: name the doctor the patient is registered with",
            ));
        }
    };
    let patient = validate::new_patient(body, now().date_naive()).map_err(ApiError::validation)?;
    Ok(Created(
        app.store
            .create_patient(&actor, doctor_id, &patient)
            .await?,
    ))
}

/// Change a patient's chart
///
/// An omitted field is left alone; `null` clears an optional one. An empty body answers 422.
/// A doctor changes their own patient's chart; a receptionist any patient's demographics and
/// contacts (name, date of birth, sex, phone, email, address, referred by): a clinical field
/// answers 403, and their answer leaves the clinical fields out (empty, allergies
/// `not_recorded`).
///
/// Roles: doctor, receptionist.
#[utoipa::path(
    patch,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    operation_id = "updatePatient",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The id of the patient.")),
    request_body = PatientUpdate,
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Patient>),
    ),
)]
pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<PatientUpdate>,
) -> ApiResult<Patient> {
    let actor = caller
        .permit(&app, &[Role::Doctor, Role::Receptionist])
        .await?;
    let receptionist = caller.role == Role::Receptionist;
    if receptionist && let Some(field) = body.clinical_fields().first() {
        return Err(ApiError::forbidden(format!(
            "a receptionist changes demographics and contacts only, not `{field}`: leave it out"
        )));
    }
    let update =
        validate::patient_update(body, now().date_naive()).map_err(ApiError::validation)?;
    let patient = app.store.update_patient(&actor, id, &update).await?;
    Ok(Success(if receptionist {
        without_clinical_fields(patient)
    } else {
        patient
    }))
}

/// The chart with its clinical fields left out, for a receptionist, who may not read them.
fn without_clinical_fields(patient: Patient) -> Patient {
    Patient {
        illness_duration: None,
        allergies: Allergies::default(),
        alerts: Vec::new(),
        symptoms: Vec::new(),
        ..patient
    }
}

/// The active doctors
///
/// Whom a receptionist registers a patient with (`doctor_id` of `POST /patients`), by name.
///
/// Roles: receptionist, admin.
#[utoipa::path(
    get,
    path = "/api/v1/doctors",
    tag = "patients",
    operation_id = "listDoctors",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK.", body = SuccessEnvelope<Vec<DoctorSummary>>),
    ),
)]
pub async fn doctors(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
) -> ApiResult<Vec<DoctorSummary>> {
    let actor = caller
        .permit(&app, &[Role::Receptionist, Role::Admin])
        .await?;
    Ok(Success(app.store.active_doctors(&actor).await?))
}

//! `/patients*`: the doctor's list and search (receptionists see every doctor's rows), the
//! chart, registration and updates.

use axum::extract::State;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Created, Success};
use super::extract::{Json, NoQuery, PathId, Query};
use super::params;
use crate::model::auth::Role;
use crate::model::page::{Page, SearchResults};
use crate::model::patient::*;
use crate::model::query::{PatientListParams, PatientSearchParams};
use crate::model::time::now;
use crate::model::validate;
use crate::store::PatientListQuery;

pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<PatientListParams>,
) -> ApiResult<Page<PatientSummary>> {
    let actor = caller.require(&[Role::Doctor, Role::Receptionist])?;
    let query = PatientListQuery {
        search: params
            .search
            .map(|s| validate::search_term("search", &s))
            .transpose()
            .map_err(ApiError::validation)?,
        sort: params.sort.unwrap_or_default(),
        limit: params::list_limit(params.limit)?,
        start: params::page_start(params.offset, params.cursor)?,
    };
    Ok(Success(app.store.list_patients(&actor, &query).await?))
}

pub async fn search(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<PatientSearchParams>,
) -> ApiResult<SearchResults<PatientSummary>> {
    let actor = caller.require(&[Role::Doctor, Role::Receptionist])?;
    let term = validate::search_term("q", params.q.as_deref().unwrap_or_default())
        .map_err(ApiError::validation)?;
    let limit = params::limit(params.limit, 10, 50)?;
    let items = app.store.search_patients(&actor, &term, limit).await?;
    Ok(Success(SearchResults {
        count: items.len(),
        items,
    }))
}

pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
) -> ApiResult<Patient> {
    let actor = caller.require(&[Role::Doctor])?;
    Ok(Success(app.store.get_patient(&actor, id).await?))
}

pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    _: NoQuery,
    Json(body): Json<NewPatient>,
) -> Result<Created<Patient>, ApiError> {
    let actor = caller.require(&[Role::Doctor, Role::Receptionist])?;
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

pub async fn update(
    State(app): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    _: NoQuery,
    Json(body): Json<PatientUpdate>,
) -> ApiResult<Patient> {
    let actor = caller.require(&[Role::Doctor])?;
    let update =
        validate::patient_update(body, now().date_naive()).map_err(ApiError::validation)?;
    Ok(Success(
        app.store.update_patient(&actor, id, &update).await?,
    ))
}

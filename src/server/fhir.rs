//! `/fhir/r4`: a read-only FHIR R4 API over the same store reads as the API's own routes,
//! with the same authentication (a doctor's bearer token), ownership (another doctor's
//! patient is not found) and audit (each read's action prefixed `fhir.`, from
//! `Actor::channel`). The mapping to FHIR is `crate::fhir`; this module parses FHIR's search
//! parameters, builds the links, and answers `application/fhir+json`. Failures are the API's
//! own `ApiError`s, rewritten as OperationOutcomes on the way out (`outcome_of`), so a 401 from
//! the token check, a 429 from the rate limit or a 404 of an unknown path all read alike.
//!
//! These routes are not in `server::table()`: their bodies are FHIR resources rather than the
//! API's envelopes, and the rules the OpenAPI document adds to every operation there (the
//! error envelope on 401/403/404/422, `X-Request-ID` schemas) would describe them wrongly.
//! The CapabilityStatement at `/fhir/r4/metadata` is their machine-readable description.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use uuid::Uuid;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::listener::ServedOverTls;
use crate::fhir::{self, Context, bundle::Entry};
use crate::model::auth::Role;
use crate::model::page::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::model::patient::PatientSort;
use crate::model::report::ReportFilter;
use crate::model::validate;
use crate::store::{
    Actor, PageStart, PatientFilter, PatientListQuery, ReportListQuery, StoreError,
};

/// Where the FHIR API is served.
pub const BASE_PATH: &str = "/fhir/r4";

/// The audit channel of FHIR reads: their actions read `fhir.patient.read` and so on.
const CHANNEL: &str = "fhir";

/// The routes, under `BASE_PATH`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/metadata", get(metadata))
        .route("/Patient", get(search_patients))
        .route("/Patient/{id}", get(read_patient))
        .route("/Patient/{id}/$everything", get(everything))
        .route("/Encounter", get(search_encounters))
        .route("/Encounter/{id}", get(read_encounter))
        .route("/DiagnosticReport", get(search_reports))
        .route("/DiagnosticReport/{id}", get(read_report))
}

/// A FHIR answer: the resource as `application/fhir+json`.
fn resource(body: &Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(fhir::MEDIA_TYPE),
        )],
        body.to_string(),
    )
        .into_response()
}

/// Where the request was sent (the service base of the links it answers with) and the MRN
/// system: the mapping's `Context`, taken from the request.
struct Requested(Context);

impl FromRequestParts<AppState> for Requested {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let tls = parts.extensions.get::<ServedOverTls>().is_some();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let proxied = super::client_ip::from_trusted_proxy(peer, &app.config.trusted_proxies);
        Ok(Requested(Context {
            base: service_base(&parts.headers, tls, proxied),
            mrn_system: app.config.fhir_mrn_system.clone(),
        }))
    }
}

/// The first value of a header, if it is a plain host name and port (nothing else is echoed
/// into a link).
fn host_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
}

/// `http(s)://host/fhir/r4`: the Host header, `https` over TLS; from a trusted proxy, its
/// `X-Forwarded-Host` and `X-Forwarded-Proto` instead, since the client's URL is the proxy's.
fn service_base(headers: &HeaderMap, tls: bool, proxied: bool) -> String {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let scheme = match forwarded_proto.as_deref() {
        Some(proto @ ("http" | "https")) if proxied => proto.to_string(),
        _ if tls => "https".to_string(),
        _ => "http".to_string(),
    };
    let host = proxied
        .then(|| host_value(headers, "x-forwarded-host"))
        .flatten()
        .or_else(|| host_value(headers, header::HOST.as_str()))
        .unwrap_or("localhost");
    format!("{scheme}://{host}{BASE_PATH}")
}

/// Who reads: a doctor, audited on the FHIR channel.
async fn doctor(app: &AppState, caller: &Caller) -> Result<Actor, ApiError> {
    let mut actor = caller.permit(app, &[Role::Doctor]).await?;
    actor.channel = Some(CHANNEL);
    Ok(actor)
}

/// A resource id of ours is a UUID; anything else names nothing here.
fn id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::not_found())
}

/// A search's parameters, each given at most once, every name one the search knows.
struct Params(BTreeMap<String, String>);

/// Parameters every search takes besides its own: the page size and position, and the
/// format (JSON is all there is).
const COMMON: [&str; 4] = ["_count", "_cursor", "_format", "_pretty"];

impl Params {
    fn parse(raw: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
        let mut params = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let name = name.into_owned();
            if !known.contains(&name.as_str()) && !COMMON.contains(&name.as_str()) {
                let mut names: Vec<&str> = known.to_vec();
                names.extend(["_count", "_cursor"]);
                return Err(ApiError::field(
                    &name,
                    format!(
                        "is not a search parameter here (modifiers and chains are not supported either); use {}",
                        names.join(", ")
                    ),
                ));
            }
            if params.insert(name.clone(), value.into_owned()).is_some() {
                return Err(ApiError::field(
                    &name,
                    "is given twice; give it once (repeating a parameter is not supported)",
                ));
            }
        }
        let params = Params(params);
        if let Some(format) = params.get("_format")
            && !matches!(
                format,
                "json" | "application/json" | "application/fhir+json"
            )
        {
            return Err(ApiError::field(
                "_format",
                "must be json: this server answers application/fhir+json only",
            ));
        }
        Ok(params)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A parameter that must not be empty when given.
    fn text(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name).map(str::trim) {
            Some("") => Err(ApiError::field(
                name,
                "is empty; give a value or leave it out",
            )),
            other => Ok(other),
        }
    }

    fn count(&self) -> Result<u32, ApiError> {
        let Some(text) = self.get("_count") else {
            return Ok(DEFAULT_LIMIT);
        };
        text.parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::field("_count", format!("must be a number from 1 to {MAX_LIMIT}"))
            })
    }

    fn start(&self) -> Result<PageStart, ApiError> {
        match self.text("_cursor")? {
            Some(cursor) => Ok(PageStart::Cursor(cursor.to_string())),
            None => Ok(PageStart::Offset(0)),
        }
    }

    /// The URL of this search at `path`, with `_cursor` set to `cursor` (or left out).
    fn url(&self, context: &Context, path: &str, cursor: Option<&str>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.0 {
            if name != "_cursor" {
                query.append_pair(name, value);
            }
        }
        if let Some(cursor) = cursor {
            query.append_pair("_cursor", cursor);
        }
        let query = query.finish();
        if query.is_empty() {
            format!("{}{path}", context.base)
        } else {
            format!("{}{path}?{query}", context.base)
        }
    }

    /// `patient`: `Patient/{id}` or the bare id.
    fn patient(&self) -> Result<Option<Uuid>, ApiError> {
        let Some(value) = self.text("patient")? else {
            return Ok(None);
        };
        let id = value.strip_prefix("Patient/").unwrap_or(value);
        Uuid::parse_str(id).map(Some).map_err(|_| {
            ApiError::field("patient", "must be Patient/{id} or a patient's id (a UUID)")
        })
    }
}

/// CapabilityStatement
///
/// What this server serves, without a token (it holds no patient data).
async fn metadata(Requested(context): Requested) -> Response {
    let built = env!("SYNAPSE_BUILD_DATE");
    let date = if chrono::NaiveDate::parse_from_str(built, "%Y-%m-%d").is_ok() {
        built.to_string()
    } else {
        crate::model::time::now().date_naive().to_string()
    };
    resource(&fhir::capability::statement(&context, &date))
}

/// `Patient/{id}`: the chart, audited `fhir.patient.read`.
async fn read_patient(
    State(app): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    Requested(context): Requested,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    let patient = app.store.get_patient(&actor, id(&raw)?).await?;
    Ok(resource(&fhir::patient::from_chart(&context, &patient)))
}

/// `birthdate`: a full date, equal (no prefix or `eq`) only.
fn birthdate(value: &str) -> Result<chrono::NaiveDate, ApiError> {
    let date = value.strip_prefix("eq").unwrap_or(value);
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .filter(|_| date.len() == 10)
        .ok_or_else(|| {
            ApiError::field(
                "birthdate",
                "must be a full date like 1980-04-23 (equal only: no other prefix, no partial dates)",
            )
        })
}

/// `Patient?name=&identifier=&birthdate=`: the doctor's patients, by name order, a page at a
/// time; audited `fhir.patient.list`.
async fn search_patients(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    Requested(context): Requested,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    let params = Params::parse(raw.as_deref(), &["name", "identifier", "birthdate"])?;
    let name = params
        .text("name")?
        .map(|name| validate::patient_search_term("name", name))
        .transpose()
        .map_err(ApiError::validation)?;
    let mrn = match params.text("identifier")? {
        None => None,
        Some(token) => match token.split_once('|') {
            None => Some(token.to_string()),
            Some((system, value)) if system.is_empty() || system == context.mrn_system => {
                if value.trim().is_empty() {
                    return Err(ApiError::field(
                        "identifier",
                        "has no value after `|`; give system|MRN or the MRN",
                    ));
                }
                // `|value` asks for identifiers without a system, which ours never are.
                if system.is_empty() {
                    return Ok(empty_searchset(&context, &params, "/Patient"));
                }
                Some(value.to_string())
            }
            // Another system's identifiers are not ours to match.
            Some(_) => return Ok(empty_searchset(&context, &params, "/Patient")),
        },
    };
    let born_on = params.text("birthdate")?.map(birthdate).transpose()?;
    let query = PatientListQuery {
        search: None,
        filter: PatientFilter { name, mrn, born_on },
        sort: PatientSort::Name,
        limit: params.count()?,
        start: params.start()?,
    };
    let page = app.store.list_patients(&actor, &query).await?;
    let entries = page
        .items
        .iter()
        .map(|p| Entry::matched(fhir::patient::from_summary(&context, p)))
        .collect();
    let next = page
        .pagination
        .next_cursor
        .as_deref()
        .filter(|_| page.pagination.has_more)
        .map(|cursor| params.url(&context, "/Patient", Some(cursor)));
    Ok(searchset_page(
        &context,
        &params,
        "/Patient",
        entries,
        page.pagination.total,
        next,
    ))
}

fn cursor_of(params: &Params) -> Option<&str> {
    params.get("_cursor")
}

/// One page of a search at `path` as a searchset Bundle: its `self` link is the request's own
/// page, `next` the link to the page after it, if any.
fn searchset_page(
    context: &Context,
    params: &Params,
    path: &str,
    entries: Vec<Entry>,
    total: u64,
    next: Option<String>,
) -> Response {
    resource(&fhir::bundle::searchset(
        context,
        entries,
        Some(total),
        &params.url(context, path, cursor_of(params)),
        next.as_deref(),
    ))
}

fn empty_searchset(context: &Context, params: &Params, path: &str) -> Response {
    searchset_page(context, params, path, Vec::new(), 0, None)
}

/// `Patient/{id}/$everything`: the whole record in one Bundle, read as the record export reads
/// it and audited as one disclosure, `fhir.patient.everything`.
async fn everything(
    State(app): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
    Requested(context): Requested,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    Params::parse(query.as_deref(), &[])?;
    let patient_id = id(&raw)?;
    let record = app.store.patient_everything(&actor, patient_id).await?;
    let self_url = format!("{}/Patient/{patient_id}/$everything", context.base);
    Ok(resource(&fhir::everything::bundle(
        &context, &record, &self_url,
    )))
}

/// The offset of an Encounter page: the consultation history pages by offset, so the next
/// link carries it as the opaque `_cursor`.
fn offset_of(params: &Params) -> Result<u64, ApiError> {
    match params.start()? {
        PageStart::Offset(offset) => Ok(offset),
        PageStart::Cursor(cursor) => cursor.parse::<u64>().map_err(|_| {
            ApiError::field(
                "_cursor",
                "is not one this server gave; follow the next link as given",
            )
        }),
    }
}

/// `Encounter?patient=`: a patient's consultations, newest first; audited
/// `fhir.consultation.history`. Another doctor's patient gives an empty searchset (audited as
/// denied).
async fn search_encounters(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    Requested(context): Requested,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    let params = Params::parse(raw.as_deref(), &["patient"])?;
    let Some(patient_id) = params.patient()? else {
        return Err(ApiError::field(
            "patient",
            "is required: Encounter?patient=Patient/{id}",
        ));
    };
    let limit = params.count()?;
    let offset = offset_of(&params)?;
    let history = match app
        .store
        .consultation_history(&actor, patient_id, limit, offset)
        .await
    {
        Ok(history) => history,
        Err(StoreError::NotFound) => return Ok(empty_searchset(&context, &params, "/Encounter")),
        Err(e) => return Err(e.into()),
    };
    let entries = history
        .items
        .iter()
        .map(|c| Entry::matched(fhir::encounter::from_consultation(c)))
        .collect();
    let next_offset = offset + history.items.len() as u64;
    let next = (history.pagination.has_more && !history.items.is_empty())
        .then(|| params.url(&context, "/Encounter", Some(&next_offset.to_string())));
    Ok(searchset_page(
        &context,
        &params,
        "/Encounter",
        entries,
        history.pagination.total,
        next,
    ))
}

/// `Encounter/{id}`: one consultation, audited as the API's read of it.
async fn read_encounter(
    State(app): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    let consultation = app.store.get_consultation(&actor, id(&raw)?).await?;
    Ok(resource(&fhir::encounter::from_consultation(&consultation)))
}

/// `DiagnosticReport?patient=&status=`: the doctor's reports, newest first; audited
/// `fhir.report.list`.
async fn search_reports(
    State(app): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    Requested(context): Requested,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    let params = Params::parse(raw.as_deref(), &["patient", "status"])?;
    let status = match params.text("status")? {
        None => None,
        Some("registered") => {
            return Err(ApiError::field(
                "status",
                "registered is not searchable by itself here (it stands for reports waiting for a draft and reports whose draft failed); search without status and read each status",
            ));
        }
        Some(status) => Some(
            fhir::diagnostic_report::searched_status(status).ok_or_else(|| {
                ApiError::field("status", "must be partial, preliminary or final")
            })?,
        ),
    };
    let query = ReportListQuery {
        filter: ReportFilter {
            patient_id: params.patient()?,
            status,
            ..ReportFilter::default()
        },
        limit: params.count()?,
        start: params.start()?,
    };
    let page = app.store.list_reports(&actor, &query).await?;
    let entries = page
        .items
        .iter()
        .map(|r| Entry::matched(fhir::diagnostic_report::from_summary(r)))
        .collect();
    let next = page
        .pagination
        .next_cursor
        .as_deref()
        .filter(|_| page.pagination.has_more)
        .map(|cursor| params.url(&context, "/DiagnosticReport", Some(cursor)));
    Ok(searchset_page(
        &context,
        &params,
        "/DiagnosticReport",
        entries,
        page.pagination.total,
        next,
    ))
}

/// `DiagnosticReport/{id}`: one report, audited as the API's read of it.
async fn read_report(
    State(app): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let actor = doctor(&app, &caller).await?;
    let report = app.store.get_report(&actor, id(&raw)?).await?;
    Ok(resource(&fhir::diagnostic_report::from_report(&report)))
}

/// Whether a path is the FHIR API's, whose failures are OperationOutcomes.
pub fn is_fhir_path(path: &str) -> bool {
    path == BASE_PATH || path.starts_with(&format!("{BASE_PATH}/"))
}

/// The largest error envelope read back to rewrite: ours are a few hundred bytes.
const ENVELOPE_LIMIT: usize = 64 * 1024;

/// An error answer of the API (the envelope) as an OperationOutcome with the same status
/// (422, the API's answer to a bad parameter, becomes FHIR's 400), code and message, and the
/// same headers (`WWW-Authenticate`, `Retry-After`). Anything else passes as it is.
pub async fn outcome_of(response: Response) -> Response {
    let status = response.status();
    let is_envelope = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || !is_envelope {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let envelope: Value = match axum::body::to_bytes(body, ENVELOPE_LIMIT).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let code = envelope["error"]["code"].as_str().unwrap_or("INTERNAL");
    let message = envelope["error"]["message"]
        .as_str()
        .unwrap_or("The request failed.");
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let body = fhir::outcome::error(status, code, message).to_string();
    parts.status = status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(fhir::MEDIA_TYPE),
    );
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn links_name_the_host_asked_for_and_a_trusted_proxys_forwarded_url() {
        let direct = headers(&[("host", "fhir.clinic:8080")]);
        assert_eq!(
            service_base(&direct, false, false),
            "http://fhir.clinic:8080/fhir/r4"
        );
        assert_eq!(
            service_base(&direct, true, false),
            "https://fhir.clinic:8080/fhir/r4"
        );
        let forwarded = headers(&[
            ("host", "10.0.0.2:8080"),
            ("x-forwarded-host", "records.clinic.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(
            service_base(&forwarded, false, true),
            "https://records.clinic.example/fhir/r4"
        );
        // From anyone else the forwarding headers are ignored.
        assert_eq!(
            service_base(&forwarded, false, false),
            "http://10.0.0.2:8080/fhir/r4"
        );
        // A Host that is not a host name is not echoed into links.
        let odd = headers(&[("host", "evil\"><script>")]);
        assert_eq!(service_base(&odd, false, false), "http://localhost/fhir/r4");
    }
}

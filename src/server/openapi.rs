//! The OpenAPI 3.1 document of the Synapse API, served at `GET /api/v1/openapi.json` and
//! browsable at `/docs`.
//!
//! Derived from the code: the schemas are the `ToSchema`/`IntoParams` derives of the model
//! types serde writes and reads (their limits and enum values come from `model`), and each
//! operation is the `#[utoipa::path]` of its handler, gathered from the one table of routes
//! (`server::table`) that also builds the router. What every operation of a kind shares is
//! added here by rule (`conventions`), so a handler's attribute lists only what is particular
//! to it: every operation takes and every response carries `X-Request-ID`; a secured operation answers 401 and 403; an
//! API operation answers 422 (each reads its query string, refusing unknown parameters); one
//! with a body answers 413 and 415; one with a path id answers 404; every operation answers 429
//! (the rate limits); and every operation has the
//! `default` error envelope (405, 500, 503).

use serde_json::{Map, Value, json};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::model::envelope::{ErrorEnvelope, FieldError, code};
use crate::model::event::{Event, EventKind};
use crate::model::patient::{Allergy, PatientSort, Symptom};
use crate::model::report::{Diagnosis, Medication};

/// The name of the bearer security scheme that secured operations name.
pub const BEARER: &str = "bearer";

/// The codes of a 401 on any secured operation.
const AUTH_CODES: [&str; 4] = [
    code::UNAUTHENTICATED,
    code::TOKEN_EXPIRED,
    code::SESSION_REVOKED,
    code::SESSION_EXPIRED,
];

/// The codes of a 403 on any secured operation: a role not allowed, a disabled account, or
/// an account whose role needs a second factor it has not enrolled (enrolment, `me` and the
/// sessions still answer it).
const FORBIDDEN_CODES: [&str; 3] = [
    code::FORBIDDEN,
    code::ACCOUNT_DISABLED,
    code::MFA_ENROLLMENT_REQUIRED,
];

/// The codes of the `default` response of every operation.
const DEFAULT_CODES: [&str; 3] = [code::INTERNAL, code::UNAVAILABLE, code::METHOD_NOT_ALLOWED];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Synapse API",
        description = "The clinical backend driven by the Synapse terminal workstation.\n\n\
            Base path `/api/v1` (every path also answers with a trailing slash). JSON, UTF-8, \
            snake_case fields. Success: `{\"status\":\"success\",\"data\":…,\"request_id\":…}`; \
            every error: `{\"status\":\"error\",\"error\":{\"code\",\"message\",\"details\"},\
            \"request_id\":…}` (see `ErrorEnvelope`). Unknown request fields and query \
            parameters answer 422; clients ignore unknown response fields. Every response \
            carries `X-Request-ID`. Times are RFC 3339 UTC with `Z` and milliseconds, dates \
            `YYYY-MM-DD`, ids UUIDs. Lists page with `limit` and `offset` or the opaque \
            `cursor` of the previous page; out-of-range values answer 422, never a silent \
            clamp. Access is by ownership: another doctor's resource answers 404 exactly like \
            a missing one. A browsable copy of this document is served at `/docs`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "auth", description = "Login, token refresh, logout and the caller's account."),
        (name = "patients", description = "Patient lists, search and charts (doctors; receptionists list, search and create)."),
        (name = "consultations", description = "A doctor's sessions with a patient, from start to stop or cancel."),
        (name = "reports", description = "Reports generated from consultations: review, edit, sign, addenda, statistics."),
        (name = "events", description = "Live events: what changed in the caller's records, as Server-Sent Events."),
        (name = "admin", description = "User accounts and the audit trail (role admin)."),
        (name = "ops", description = "Health, readiness, metrics and this document (no auth)."),
    ),
    // Schemas named only through `model::schema` or a query parameter, which do not register them.
    components(schemas(
        ErrorEnvelope, FieldError, Allergy, Symptom, Diagnosis, Medication, PatientSort, Event,
        EventKind
    )),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

/// Adds the bearer JWT security scheme that secured operations name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_string());
        scheme.description = Some(
            "The `access_token` of `POST /api/v1/auth/login` or `/auth/refresh` (JWT HS256, 15 \
             minutes by default)."
                .to_string(),
        );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The document without operations: info, tags, the shared schemas, the security scheme.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The OpenAPI 3.1 document of the Synapse API: the routes of `server::table()` with the
/// responses every operation of their kind shares.
pub fn document() -> Value {
    let mut openapi = base();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    let openapi = super::table()
        .into_iter()
        .fold(
            utoipa_axum::router::OpenApiRouter::with_openapi(openapi),
            |router, route| router.routes(route),
        )
        .into_openapi();
    let mut doc = serde_json::to_value(openapi).unwrap_or_default();
    conventions(&mut doc);
    doc
}

/// The description of an error response: its title and what each of its codes means. Handlers
/// use it for their particular error responses (`description = errors("Conflict", &[…])`).
pub fn errors(title: &str, codes: &[&str]) -> String {
    let meanings: Vec<String> = codes
        .iter()
        .map(|name| format!("- `{name}`: {}", code::meaning(name)))
        .collect();
    format!("{title}.\n\n{}", meanings.join("\n"))
}

fn error_envelope() -> Value {
    json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } })
}

/// Adds what every operation of a kind shares (see the module documentation).
fn conventions(doc: &mut Value) {
    if let Some(components) = doc["components"].as_object_mut() {
        components.insert("headers".into(), shared_headers());
        components.insert(
            "parameters".into(),
            json!({ "RequestId": request_id_parameter() }),
        );
    }
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(operation) = item.get_mut(method) {
                operation_conventions(path, operation);
            }
        }
    }
}

fn shared_headers() -> Value {
    json!({
        "X-Request-ID": {
            "description": "The id of this request: the caller's (1–64 of `[A-Za-z0-9._-]`), or a UUID the server made.",
            "schema": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" }
        },
        "WWW-Authenticate": {
            "description": "Always `Bearer` on a 401.",
            "schema": { "type": "string", "examples": ["Bearer"] }
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": { "type": "integer", "minimum": 0 }
        }
    })
}

/// The `X-Request-ID` a caller may send; the server echoes it (or makes its own).
fn request_id_parameter() -> Value {
    json!({
        "name": "X-Request-ID",
        "in": "header",
        "required": false,
        "description": "The caller's own request id (1–64 of `[A-Za-z0-9._-]`); otherwise the server makes a UUID. Echoed in the response, every log line and audit row.",
        "schema": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" }
    })
}

fn operation_conventions(path: &str, operation: &mut Value) {
    let secured = operation["security"]
        .as_array()
        .is_some_and(|security| !security.is_empty());
    if operation.get("security").is_none() {
        operation["security"] = json!([]);
    }
    let has_body = operation.get("requestBody").is_some();
    let has_path_id = path.contains('{');
    let is_api = operation["tags"]
        .as_array()
        .is_some_and(|tags| !tags.contains(&json!("ops")));

    let mut shared: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    if secured {
        shared.push(("401", "Not authenticated", AUTH_CODES.to_vec()));
        shared.push(("403", "Forbidden", FORBIDDEN_CODES.to_vec()));
    }
    if has_path_id {
        shared.push(("404", "Not found", vec![code::NOT_FOUND]));
    }
    if has_body {
        shared.push((
            "413",
            "Request body too large",
            vec![code::PAYLOAD_TOO_LARGE],
        ));
        shared.push((
            "415",
            "Request body is not JSON",
            vec![code::UNSUPPORTED_MEDIA_TYPE],
        ));
    }
    if is_api {
        shared.push(("422", "Invalid request", vec![code::VALIDATION_ERROR]));
    }
    // The rate limits of the whole API: per user with a token, per address without.
    shared.push(("429", "Too many requests", vec![code::RATE_LIMITED]));
    shared.push((
        "default",
        "Any other error (405, 500, 503)",
        DEFAULT_CODES.to_vec(),
    ));

    let responses = operation["responses"]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut responses: Map<String, Value> = responses;
    for (status, title, codes) in shared {
        match responses.get_mut(status) {
            // A handler that lists a shared status names the codes of its own; a 401 of a
            // secured operation still means the token's codes too.
            Some(particular) if status == "401" => {
                let own = particular["description"].as_str().unwrap_or_default();
                let own = own.split_once("\n\n").map_or("", |(_, list)| list);
                particular["description"] = json!(format!("{}\n{own}", errors(title, &codes)));
            }
            Some(_) => {}
            None => {
                responses.insert(
                    status.to_string(),
                    json!({ "description": errors(title, &codes), "content": error_envelope() }),
                );
            }
        }
    }
    for (status, response) in responses.iter_mut() {
        let headers = response
            .as_object_mut()
            .map(|response| response.entry("headers").or_insert_with(|| json!({})));
        if let Some(headers) = headers.and_then(Value::as_object_mut) {
            headers.insert(
                "X-Request-ID".into(),
                json!({ "$ref": "#/components/headers/X-Request-ID" }),
            );
            if status == "401" {
                headers.insert(
                    "WWW-Authenticate".into(),
                    json!({ "$ref": "#/components/headers/WWW-Authenticate" }),
                );
            }
            if status == "429" {
                headers.insert(
                    "Retry-After".into(),
                    json!({ "$ref": "#/components/headers/Retry-After" }),
                );
            }
        }
    }
    operation["responses"] = Value::Object(responses);
    let parameter = json!({ "$ref": "#/components/parameters/RequestId" });
    match operation["parameters"].as_array_mut() {
        Some(parameters) => parameters.push(parameter),
        None => operation["parameters"] = json!([parameter]),
    }
}

/// Every (method, path) the document describes, methods lower-case, paths as in the document.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(move |method| (method.to_string(), path.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use strum::VariantArray;

    use super::*;
    use crate::model::page::{DEFAULT_LIMIT, MAX_LIMIT, MAX_SEARCH_LIMIT};
    use crate::model::report::MAX_STATS_DAYS;
    use crate::model::validate::{MAX_NAME, MAX_NOTES};

    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    match (key.as_str(), item) {
                        ("$ref", Value::String(target)) => out.push(target),
                        _ => refs(item, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }

    fn each_operation(doc: &Value) -> Vec<(String, String, &Value)> {
        operations(doc)
            .into_iter()
            .map(|(method, path)| {
                let op = &doc["paths"][&path][&method];
                (method, path, op)
            })
            .collect()
    }

    fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
        &doc["components"]["schemas"][name]
    }

    fn param<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|params| params.iter().find(|p| p["name"] == name))
            .unwrap_or(&Value::Null)
    }

    #[test]
    fn is_openapi_3_1_with_the_bearer_scheme() {
        let doc = document();
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "{version}");
        assert_eq!(doc["info"]["title"], "Synapse API");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
        let bearer = &doc["components"]["securitySchemes"][BEARER];
        assert_eq!(bearer["scheme"], "bearer");
        assert_eq!(bearer["bearerFormat"], "JWT");
    }

    #[test]
    fn every_ref_resolves_to_a_component() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 100, "{}", found.len());
        for target in found {
            assert!(target.starts_with("#/components/"), "{target}");
            assert!(doc.pointer(&target[1..]).is_some(), "unresolved {target}");
        }
    }

    #[test]
    fn the_document_has_one_operation_per_route() {
        let doc = document();
        let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().collect();
        let routed: BTreeSet<(String, String)> = super::super::routes()
            .into_iter()
            .map(|(method, path, _)| (method.as_str().to_lowercase(), path))
            .collect();
        assert_eq!(documented, routed);
        assert_eq!(operations(&doc).len(), 45);
        assert!(operations(&json!({})).is_empty());
    }

    #[test]
    fn every_operation_has_an_id_a_tag_a_2xx_and_enveloped_errors() {
        let doc = document();
        let mut ids = HashSet::new();
        for (method, path, op) in each_operation(&doc) {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(op["summary"].is_string(), "{method} {path}");
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{method} {path}"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} has no 2xx"
            );
            assert!(responses.contains_key("default"), "{method} {path}");
            let parameters = op["parameters"].as_array().unwrap();
            assert!(
                parameters.contains(&json!({ "$ref": "#/components/parameters/RequestId" })),
                "{method} {path}"
            );
            for (status, response) in responses {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}"
                );
                assert_eq!(
                    response["headers"]["X-Request-ID"]["$ref"],
                    "#/components/headers/X-Request-ID",
                    "{method} {path} {status}"
                );
                if !status.starts_with('2') {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/ErrorEnvelope",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }

    #[test]
    fn success_responses_are_enveloped() {
        let doc = document();
        let op = &doc["paths"]["/api/v1/patients"]["post"];
        let body = &op["responses"]["201"]["content"]["application/json"]["schema"];
        let envelope = match body["$ref"].as_str() {
            Some(target) => doc.pointer(&target[1..]).unwrap(),
            None => body,
        };
        assert_eq!(envelope["properties"]["status"]["enum"], json!(["success"]));
        // A generic's argument is inlined: `data` is the `Patient` schema itself.
        let data = &envelope["properties"]["data"];
        assert_eq!(
            data["allOf"],
            schema(&doc, "Patient")["allOf"],
            "{envelope:#}"
        );
        assert!(data["allOf"].is_array(), "{envelope:#}");
        let required: BTreeSet<&str> = envelope["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, BTreeSet::from(["status", "data", "request_id"]));
    }

    #[test]
    fn secured_operations_name_the_bearer_scheme_and_answer_401_and_403() {
        let doc = document();
        let public = [
            "login",
            "verifyMfa",
            "refreshTokens",
            "logout",
            "health",
            "ready",
            "metrics",
            "openapi",
        ];
        for (method, path, op) in each_operation(&doc) {
            let id = op["operationId"].as_str().unwrap();
            let security = op["security"].as_array().unwrap();
            if public.contains(&id) {
                assert!(security.is_empty(), "{method} {path}");
                continue;
            }
            assert_eq!(security, &vec![json!({ BEARER: [] })], "{method} {path}");
            let unauthenticated = op["responses"]["401"]["description"].as_str().unwrap();
            for code in AUTH_CODES {
                assert!(unauthenticated.contains(code), "{method} {path}: {code}");
            }
            let forbidden = op["responses"]["403"]["description"].as_str().unwrap();
            assert!(
                forbidden.contains(code::ACCOUNT_DISABLED),
                "{method} {path}"
            );
            assert!(
                op["responses"]["401"]["headers"]["WWW-Authenticate"].is_object(),
                "{method} {path}"
            );
        }
        // A particular 401 keeps the token's codes and adds its own.
        let sign = &doc["paths"]["/api/v1/reports/{id}/sign"]["post"]["responses"]["401"];
        let sign = sign["description"].as_str().unwrap();
        for code in AUTH_CODES.iter().chain(&[code::INVALID_CREDENTIALS]) {
            assert!(sign.contains(code), "{code} in {sign}");
        }
    }

    #[test]
    fn path_parameters_match_the_template_and_answer_404() {
        let doc = document();
        for (method, path, op) in each_operation(&doc) {
            let template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|params| {
                    params
                        .iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| {
                            assert_eq!(p["required"], true);
                            assert_eq!(p["schema"]["format"], "uuid");
                            p["name"].as_str().unwrap()
                        })
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(template, declared, "{method} {path}");
            if !template.is_empty() {
                assert!(op["responses"]["404"].is_object(), "{method} {path}");
            }
        }
    }

    #[test]
    fn request_bodies_are_closed_and_answer_413_415_422() {
        let doc = document();
        let mut bodies = 0;
        for (method, path, op) in each_operation(&doc) {
            let Some(body) = op.get("requestBody") else {
                continue;
            };
            bodies += 1;
            // An optional body is its schema or `null`.
            let schema_of_body = &body["content"]["application/json"]["schema"];
            let target = schema_of_body["$ref"]
                .as_str()
                .or_else(|| schema_of_body["oneOf"][0]["$ref"].as_str())
                .unwrap_or_else(|| panic!("{method} {path}: {body:#}"));
            let name = target.trim_start_matches("#/components/schemas/");
            assert_eq!(
                schema(&doc, name)["additionalProperties"],
                false,
                "{method} {path}"
            );
            for status in ["413", "415", "422"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} {status}"
                );
            }
        }
        assert_eq!(bodies, 17);
        for optional in ["/api/v1/auth/logout", "/api/v1/consultation/{id}/stop"] {
            let body = &doc["paths"][optional]["post"]["requestBody"];
            assert_ne!(body["required"], true, "{optional}");
        }
        assert_eq!(
            doc["paths"]["/api/v1/patients"]["post"]["requestBody"]["required"],
            true
        );
    }

    #[test]
    fn particular_errors_are_listed_with_their_codes() {
        let doc = document();
        let description = |path: &str, method: &str, status: &str| {
            doc["paths"][path][method]["responses"][status]["description"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no {status}"))
                .to_string()
        };
        assert!(description("/api/v1/auth/login", "post", "423").contains(code::ACCOUNT_LOCKED));
        assert!(description("/api/v1/auth/login", "post", "429").contains(code::RATE_LIMITED));
        assert!(
            description("/api/v1/consultation/start", "post", "409")
                .contains(code::CONSULTATION_ACTIVE)
        );
        let conflict = description("/api/v1/reports/{id}", "patch", "409");
        for code in [
            code::VERSION_CONFLICT,
            code::REPORT_SIGNED,
            code::INVALID_STATE,
        ] {
            assert!(conflict.contains(code), "{code}");
        }
        let limited = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"];
        assert!(limited["headers"]["Retry-After"].is_object());
        assert!(description("/ready", "get", "503").contains(code::UNAVAILABLE));
    }

    #[test]
    fn limits_and_enums_come_from_the_model() {
        let doc = document();
        let limit = &param(&doc, "/api/v1/patients/list", "limit")["schema"];
        assert_eq!(limit["maximum"], MAX_LIMIT);
        assert_eq!(limit["default"], DEFAULT_LIMIT);
        let limit = &param(&doc, "/api/v1/patients/search", "limit")["schema"];
        assert_eq!(limit["maximum"], MAX_SEARCH_LIMIT);
        assert_eq!(
            param(&doc, "/api/v1/patients/search", "q")["required"],
            true
        );
        assert_eq!(
            param(&doc, "/api/v1/reports/stats", "days")["schema"]["maximum"],
            MAX_STATS_DAYS
        );
        for path in [
            "/api/v1/reports/list",
            "/api/v1/patients/list",
            "/api/v1/admin/audit",
        ] {
            assert_eq!(
                param(&doc, path, "offset")["schema"]["minimum"],
                0,
                "{path}"
            );
            assert_eq!(
                param(&doc, path, "cursor")["schema"]["type"],
                "string",
                "{path}"
            );
        }
        // The users list pages by offset only; the server refuses a cursor there.
        let users = "/api/v1/admin/users";
        assert_eq!(param(&doc, users, "offset")["schema"]["minimum"], 0);
        assert_eq!(param(&doc, users, "cursor"), &Value::Null);
        assert_eq!(
            schema(&doc, "NewPatient")["properties"]["full_name"]["maxLength"],
            MAX_NAME
        );
        assert_eq!(
            schema(&doc, "NotesUpdate")["properties"]["notes"]["maxLength"],
            MAX_NOTES
        );

        use crate::model::consultation::SessionType;
        use crate::model::patient::Sex;
        use crate::model::report::ReportStatus;
        let names = |name: &str| schema(&doc, name)["enum"].clone();
        let wire = |values: Vec<&str>| json!(values);
        assert_eq!(
            names("Sex"),
            wire(Sex::VARIANTS.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            names("SessionType"),
            wire(SessionType::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            names("ReportStatus"),
            wire(ReportStatus::ALL.iter().map(|s| s.as_str()).collect())
        );
        let codes = &schema(&doc, "ErrorBody")["properties"]["code"]["enum"];
        assert_eq!(codes, &wire(code::ALL.iter().map(|(c, _)| *c).collect()));
    }
}

//! The OpenAPI 3.1 document of the Synapse API, served at `GET /api/v1/openapi.json`.
//!
//! Written by hand with `serde_json::json!` from docs/API.md (the wire contract) and the serde
//! types of `crate::model`: every schema under `components/schemas` mirrors one model type field
//! for field (snake_case names, `null`able fields as `["…","null"]`, closed request bodies), and
//! every endpoint of API.md has one operation with its parameters, body, enveloped success
//! response and the error envelope of each error status it can answer.
//!
//! Operations are described with a small builder (`Op`) that adds what every operation of a
//! kind shares (401 for secured ones, 413/415/422 for bodies, 429, the `default` error, the
//! `X-Request-ID` header), so each endpoint below lists only what is particular to it. Error
//! responses with the usual codes are shared in `components/responses`; those with codes of
//! their own (409s, 423, a 401 that also means a wrong password) are written in place, and each
//! lists its codes in `x-error-codes`. When a model type or API.md changes, change the matching
//! schema or operation here; the tests at the bottom check the document's consistency
//! (references resolve, ids unique, every operation answers 2xx, path parameters declared).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

const SCHEMAS: &str = "#/components/schemas/";

/// Largest `limit` of the paged lists, and its default (`model::page`).
const MAX_LIMIT: u32 = 100;
const DEFAULT_LIMIT: u32 = 20;
/// Text limits of `model::validate`.
const MAX_NAME: u32 = 200;
const MAX_SHORT_TEXT: u32 = 500;
const MAX_LONG_TEXT: u32 = 10_000;
const MAX_NOTES: u32 = 100_000;
const MAX_SEARCH: u32 = 100;
const MIN_PASSWORD: u32 = 8;
const MAX_PASSWORD: u32 = 128;
const MAX_LIST_ITEMS: u32 = 100;

/// The codes of a 401 on any secured operation.
const AUTH_CODES: [&str; 3] = ["UNAUTHENTICATED", "TOKEN_EXPIRED", "SESSION_REVOKED"];

/// The codes of the `default` response of every operation.
const DEFAULT_CODES: [&str; 3] = [
    "INTERNAL_ERROR",
    "SERVICE_UNAVAILABLE",
    "METHOD_NOT_ALLOWED",
];

/// The error responses many operations share, by name in `components/responses`.
const SHARED_ERRORS: [(&str, u16, &[&str]); 8] = [
    ("Unauthenticated", 401, &AUTH_CODES),
    ("Forbidden", 403, &["FORBIDDEN", "ACCOUNT_DISABLED"]),
    ("NotFound", 404, &["NOT_FOUND"]),
    ("PayloadTooLarge", 413, &["PAYLOAD_TOO_LARGE"]),
    ("UnsupportedMediaType", 415, &["UNSUPPORTED_MEDIA_TYPE"]),
    ("ValidationError", 422, &["VALIDATION_ERROR"]),
    ("RateLimited", 429, &["RATE_LIMITED"]),
    ("Error", 0, &DEFAULT_CODES),
];

/// The error codes of `model::envelope::code`, with what each means for a caller.
const ERROR_CODES: [(&str, &str); 20] = [
    (
        "UNAUTHENTICATED",
        "no bearer token, or one that is malformed or not valid",
    ),
    ("TOKEN_EXPIRED", "the access token has expired; refresh it"),
    (
        "SESSION_REVOKED",
        "the session was logged out, disabled or revoked (refresh token reuse)",
    ),
    (
        "INVALID_CREDENTIALS",
        "wrong email or password (the same answer for both)",
    ),
    (
        "ACCOUNT_LOCKED",
        "too many failed logins; `details.locked_until` says until when",
    ),
    ("ACCOUNT_DISABLED", "the account was disabled by an admin"),
    ("FORBIDDEN", "the caller's role may not use this endpoint"),
    (
        "NOT_FOUND",
        "no such resource, or it is not the caller's (the two are indistinguishable)",
    ),
    (
        "METHOD_NOT_ALLOWED",
        "the path exists but not with this method",
    ),
    (
        "VALIDATION_ERROR",
        "malformed JSON, unknown or bad fields or query values; `details.fields` names each",
    ),
    ("PAYLOAD_TOO_LARGE", "the request body is over 1 MiB"),
    ("UNSUPPORTED_MEDIA_TYPE", "the request body is not JSON"),
    (
        "CONFLICT",
        "the resource already exists (e.g. an email in use)",
    ),
    (
        "CONSULTATION_ACTIVE",
        "the patient already has a consultation in progress; `details.consultation_id` names it",
    ),
    (
        "VERSION_CONFLICT",
        "the report changed since it was read; reload it and edit the new version",
    ),
    (
        "REPORT_SIGNED",
        "the report is signed and its content immutable",
    ),
    (
        "INVALID_STATE",
        "the resource is not in a state that allows this (e.g. a consultation that ended)",
    ),
    (
        "RATE_LIMITED",
        "too many requests; retry after `Retry-After` seconds (`details.retry_after_s`)",
    ),
    (
        "INTERNAL_ERROR",
        "an unexpected failure; the request id is the handle, nothing internal leaks",
    ),
    (
        "SERVICE_UNAVAILABLE",
        "the service cannot answer now (e.g. the database is unreachable)",
    ),
];

/// The tags of the document, in order, and what each groups.
const TAGS: [(&str, &str); 6] = [
    (
        "auth",
        "Login, token refresh, logout and the caller's account.",
    ),
    (
        "patients",
        "Patient lists, search and charts (doctors; receptionists list, search and create).",
    ),
    (
        "consultations",
        "A doctor's sessions with a patient, from start to stop or cancel.",
    ),
    (
        "reports",
        "Reports generated from consultations: review, edit, sign, addenda, statistics.",
    ),
    ("admin", "User accounts and the audit trail (role admin)."),
    (
        "ops",
        "Health, readiness, metrics and this document (no auth).",
    ),
];

/// The OpenAPI 3.1 document of the Synapse API, served at GET /api/v1/openapi.json.
pub fn document() -> serde_json::Value {
    let tags: Vec<Value> = TAGS
        .iter()
        .map(|(name, description)| json!({ "name": name, "description": description }))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": info(),
        "tags": tags,
        "paths": paths(),
        "components": components(),
    })
}

fn info() -> Value {
    let description = concat!(
        "Base path `/api/v1` (every path also answers with a trailing slash). JSON, UTF-8, ",
        "snake_case fields. Success: ",
        "`{\"status\":\"success\",\"data\":…,\"request_id\":…}`; every error: ",
        "`{\"status\":\"error\",\"error\":{\"code\",\"message\",\"details\"},",
        "\"request_id\":…}` (see `ErrorEnvelope`). Unknown request fields answer 422; ",
        "clients ignore unknown response fields. Every response carries `X-Request-ID`. ",
        "Times are RFC 3339 UTC with `Z` and milliseconds, dates `YYYY-MM-DD`, ids UUIDs. ",
        "Lists page with `limit` and `offset` or the opaque `cursor` of the previous ",
        "page; out-of-range values answer 422, never a silent clamp. Access is by ",
        "ownership: another doctor's resource answers 404 exactly like a missing one."
    );
    json!({
        "title": "Synapse API",
        "version": env!("CARGO_PKG_VERSION"),
        "summary": "The clinical backend driven by the Synapse terminal workstation.",
        "description": description,
        "license": { "name": "MIT", "identifier": "MIT" }
    })
}

/// Every operation, keyed by path then method.
fn paths() -> Value {
    let mut paths = Map::new();
    for (tag, _) in TAGS {
        let ops = match tag {
            "auth" => auth_operations(),
            "patients" => patient_operations(),
            "consultations" => consultation_operations(),
            "reports" => report_operations(),
            "admin" => admin_operations(),
            _ => ops_operations(),
        };
        for op in ops {
            let (path, method, operation) = op.build(tag);
            if let Value::Object(item) = paths.entry(path).or_insert_with(|| json!({})) {
                item.insert(method.to_string(), operation);
            }
        }
    }
    Value::Object(paths)
}

fn components() -> Value {
    json!({
        "schemas": schemas(),
        "responses": shared_responses(),
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": concat!(
                    "The `access_token` of `POST /api/v1/auth/login` or `/auth/refresh` ",
                    "(JWT HS256, 15 minutes by default)."
                )
            }
        },
        "parameters": {
            "RequestId": {
                "name": "X-Request-ID",
                "in": "header",
                "required": false,
                "description": concat!(
                    "The caller's own request id (1–64 of `[A-Za-z0-9._-]`); otherwise the ",
                    "server makes a UUID. Echoed in the response, every log line and audit row."
                ),
                "schema": request_id_schema()
            }
        },
        "headers": {
            "X-Request-ID": {
                "description": "The id of this request: the caller's, or a UUID the server made.",
                "schema": request_id_schema()
            },
            "WWW-Authenticate": {
                "description": "Always `Bearer` on a 401.",
                "schema": { "type": "string", "examples": ["Bearer"] }
            },
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": { "type": "integer", "minimum": 0 }
            }
        }
    })
}

/// Every (method, path) the document describes, methods lower-case, paths as in the document.
pub fn operations(doc: &serde_json::Value) -> Vec<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
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

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// One operation under construction. `build` adds what every operation of its kind shares.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    description: Vec<String>,
    secured: bool,
    roles: Vec<&'static str>,
    params: Vec<Value>,
    body: Option<(&'static str, bool)>,
    success: Option<(u16, Value)>,
    errors: BTreeMap<u16, Vec<&'static str>>,
}

/// A secured operation (bearer JWT) on a full path; `public()` removes the requirement.
fn op(method: &'static str, path: &'static str) -> Op {
    Op {
        method,
        path,
        id: "",
        summary: "",
        description: Vec::new(),
        secured: true,
        roles: Vec::new(),
        params: Vec::new(),
        body: None,
        success: None,
        errors: BTreeMap::new(),
    }
}

impl Op {
    /// The `operationId` and the summary.
    fn named(mut self, id: &'static str, summary: &'static str) -> Self {
        self.id = id;
        self.summary = summary;
        self
    }

    fn public(mut self) -> Self {
        self.secured = false;
        self
    }

    fn describe(mut self, text: &str) -> Self {
        self.description.push(text.to_string());
        self
    }

    /// The roles allowed; every other role answers 403 FORBIDDEN.
    fn roles(mut self, roles: &[&'static str]) -> Self {
        self.roles.extend_from_slice(roles);
        self.err(403, &["FORBIDDEN", "ACCOUNT_DISABLED"])
    }

    fn err(mut self, status: u16, codes: &[&'static str]) -> Self {
        let listed = self.errors.entry(status).or_default();
        for code in codes {
            if !listed.contains(code) {
                listed.push(code);
            }
        }
        self
    }

    /// A UUID path parameter; a resource that is missing or not the caller's answers 404.
    fn path_id(mut self, name: &'static str, what: &str) -> Self {
        self.params.push(json!({
            "name": name,
            "in": "path",
            "required": true,
            "description": format!("The id of the {what}."),
            "schema": uuid(),
        }));
        self.err(404, &["NOT_FOUND"])
    }

    /// An optional query parameter.
    fn query(self, name: &str, schema: Value, description: &str) -> Self {
        self.query_parameter(name, schema, description, false)
    }

    fn required_query(self, name: &str, schema: Value, description: &str) -> Self {
        self.query_parameter(name, schema, description, true)
    }

    fn query_parameter(mut self, name: &str, schema: Value, text: &str, required: bool) -> Self {
        self.params.push(json!({
            "name": name,
            "in": "query",
            "required": required,
            "description": text,
            "schema": schema,
        }));
        self
    }

    fn limit(self, max: u32, default: u32) -> Self {
        self.query(
            "limit",
            json!({ "type": "integer", "minimum": 1, "maximum": max, "default": default }),
            "How many items to return.",
        )
    }

    /// `limit` (1–100, default 20), `offset` and `cursor`: the parameters of every paged list.
    fn paged(self) -> Self {
        self.offset_paged().query(
            "cursor",
            json!({ "type": "string", "minLength": 1 }),
            "The opaque `pagination.next_cursor` of the previous page (keyset paging).",
        )
    }

    /// `limit` and `offset` only, for the short lists that have no cursor.
    fn offset_paged(self) -> Self {
        self.limit(MAX_LIMIT, DEFAULT_LIMIT).query(
            "offset",
            json!({ "type": "integer", "minimum": 0, "default": 0 }),
            "How many items to skip.",
        )
    }

    /// A required JSON request body of the named schema.
    fn body(mut self, schema: &'static str) -> Self {
        self.body = Some((schema, true));
        self
    }

    /// A JSON request body of the named schema that may be left out.
    fn optional_body(mut self, schema: &'static str) -> Self {
        self.body = Some((schema, false));
        self
    }

    /// 200 with `data` in the success envelope.
    fn ok(self, data: Value) -> Self {
        self.answer(200, data)
    }

    /// 201 with `data` in the success envelope.
    fn created(self, data: Value) -> Self {
        self.answer(201, data)
    }

    fn answer(mut self, status: u16, data: Value) -> Self {
        self.success = Some((status, success_response(status, data)));
        self
    }

    /// A success response that is not enveloped (the ops endpoints).
    fn raw(mut self, status: u16, response: Value) -> Self {
        self.success = Some((status, response));
        self
    }

    /// The path, the method and the operation object, listed under `tag`.
    fn build(mut self, tag: &str) -> (String, &'static str, Value) {
        if self.secured {
            let extra = self.errors.remove(&401).unwrap_or_default();
            self = self.err(401, &AUTH_CODES);
            self = self.err(401, &extra);
        }
        if self.body.is_some() {
            self = self
                .err(413, &["PAYLOAD_TOO_LARGE"])
                .err(415, &["UNSUPPORTED_MEDIA_TYPE"]);
        }
        if self.body.is_some() || !self.params.is_empty() {
            self = self.err(422, &["VALIDATION_ERROR"]);
        }
        if self.secured || self.body.is_some() {
            self = self.err(429, &["RATE_LIMITED"]);
        }

        let mut responses = Map::new();
        if let Some((status, response)) = self.success.take() {
            responses.insert(status.to_string(), response);
        }
        for (status, codes) in &self.errors {
            responses.insert(status.to_string(), error_response(*status, codes));
        }
        responses.insert("default".into(), error_response(0, &DEFAULT_CODES));

        let mut description = self.description.join("\n\n");
        if !self.roles.is_empty() {
            let roles = self.roles.join(", ");
            let note = format!("Roles: {roles}; any other role answers 403 `FORBIDDEN`.");
            description = if description.is_empty() {
                note
            } else {
                format!("{description}\n\n{note}")
            };
        }

        let mut params = self.params;
        params.push(json!({ "$ref": "#/components/parameters/RequestId" }));
        let security = if self.secured {
            json!([{ "bearer": [] }])
        } else {
            json!([])
        };

        let mut operation = Map::new();
        operation.insert("operationId".into(), json!(self.id));
        operation.insert("summary".into(), json!(self.summary));
        if !description.is_empty() {
            operation.insert("description".into(), json!(description));
        }
        operation.insert("tags".into(), json!([tag]));
        operation.insert("security".into(), security);
        if !self.roles.is_empty() {
            operation.insert("x-roles".into(), json!(self.roles));
        }
        operation.insert("parameters".into(), Value::Array(params));
        if let Some((schema, required)) = self.body {
            operation.insert(
                "requestBody".into(),
                json!({
                    "required": required,
                    "content": { "application/json": { "schema": schema_ref(schema) } }
                }),
            );
        }
        operation.insert("responses".into(), Value::Object(responses));
        (self.path.to_string(), self.method, Value::Object(operation))
    }
}

fn success_response(status: u16, data: Value) -> Value {
    let description = if status == 201 { "Created." } else { "OK." };
    json!({
        "description": description,
        "headers": { "X-Request-ID": { "$ref": "#/components/headers/X-Request-ID" } },
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["status", "data", "request_id"],
                    "properties": {
                        "status": { "type": "string", "const": "success" },
                        "data": data,
                        "request_id": { "type": "string" }
                    }
                }
            }
        }
    })
}

/// The error response of `status` with `codes`: a reference to the shared one in
/// `components/responses` when the pair is standard, else described in place.
fn error_response(status: u16, codes: &[&str]) -> Value {
    match SHARED_ERRORS
        .iter()
        .find(|(_, shared_status, shared_codes)| *shared_status == status && *shared_codes == codes)
    {
        Some((name, _, _)) => json!({ "$ref": format!("#/components/responses/{name}") }),
        None => error_response_object(status, codes),
    }
}

/// The shared error responses of `components/responses`.
fn shared_responses() -> Value {
    let responses: Map<String, Value> = SHARED_ERRORS
        .iter()
        .map(|(name, status, codes)| (name.to_string(), error_response_object(*status, codes)))
        .collect();
    Value::Object(responses)
}

/// The error envelope answered with `status` (0 for the `default` response), naming its codes.
fn error_response_object(status: u16, codes: &[&str]) -> Value {
    let title = match status {
        401 => "Not authenticated",
        403 => "Forbidden",
        404 => "Not found",
        409 => "Conflict with the resource's current state",
        413 => "Request body too large",
        415 => "Request body is not JSON",
        422 => "Invalid request",
        423 => "Account locked",
        429 => "Too many requests",
        503 => "Service unavailable",
        _ => "Any other error (405, 500, 503)",
    };
    let meanings: Vec<String> = codes
        .iter()
        .map(|code| {
            let meaning = ERROR_CODES
                .iter()
                .find(|(name, _)| name == code)
                .map_or("", |(_, meaning)| *meaning);
            format!("- `{code}`: {meaning}")
        })
        .collect();
    let mut headers = Map::new();
    headers.insert(
        "X-Request-ID".into(),
        json!({ "$ref": "#/components/headers/X-Request-ID" }),
    );
    if status == 401 {
        headers.insert(
            "WWW-Authenticate".into(),
            json!({ "$ref": "#/components/headers/WWW-Authenticate" }),
        );
    }
    if status == 429 {
        headers.insert(
            "Retry-After".into(),
            json!({ "$ref": "#/components/headers/Retry-After" }),
        );
    }
    let first = codes.first().copied().unwrap_or("INTERNAL_ERROR");
    json!({
        "description": format!("{title}.\n\n{}", meanings.join("\n")),
        "headers": headers,
        "content": {
            "application/json": {
                "schema": schema_ref("ErrorEnvelope"),
                "example": {
                    "status": "error",
                    "error": {
                        "code": first,
                        "message": "A message for a person.",
                        "details": example_details(first)
                    },
                    "request_id": "0193a5c4-7b2e-7c1d-9f3a-2b8e4d6f1a20"
                }
            }
        },
        "x-error-codes": codes,
    })
}

fn example_details(code: &str) -> Value {
    match code {
        "VALIDATION_ERROR" => {
            json!({ "fields": [{ "field": "date_of_birth", "message": "must be a past date" }] })
        }
        "ACCOUNT_LOCKED" => json!({ "locked_until": "2026-11-26T06:48:23.123Z" }),
        "RATE_LIMITED" => json!({ "retry_after_s": 30 }),
        "CONSULTATION_ACTIVE" => {
            json!({ "consultation_id": "0193a5c4-7b2e-7c1d-9f3a-2b8e4d6f1a21" })
        }
        _ => json!({}),
    }
}

fn auth_operations() -> Vec<Op> {
    vec![
        op("post", "/api/v1/auth/login")
            .named("login", "Log in with email and password")
            .public()
            .describe(
                "Answers an access token (JWT HS256, 15 minutes by default) and a single-use \
                 refresh token (7 days). A wrong password and an unknown email answer the same \
                 401. After 5 consecutive failures the account locks for 15 minutes (423, even \
                 with the right password).",
            )
            .body("LoginRequest")
            .ok(schema_ref("Tokens"))
            .err(401, &["INVALID_CREDENTIALS"])
            .err(403, &["ACCOUNT_DISABLED"])
            .err(423, &["ACCOUNT_LOCKED"]),
        op("post", "/api/v1/auth/refresh")
            .named("refreshTokens", "Exchange a refresh token for new tokens")
            .public()
            .describe(
                "Rotates: every call answers a new refresh token and the old one stops working. \
                 Presenting an already-used refresh token revokes the whole session \
                 (401 `SESSION_REVOKED`).",
            )
            .body("RefreshRequest")
            .ok(schema_ref("Tokens"))
            .err(401, &AUTH_CODES)
            .err(403, &["ACCOUNT_DISABLED"]),
        op("post", "/api/v1/auth/logout")
            .named("logout", "Log out: revoke the session")
            .describe(
                "The session's access and refresh tokens stop working at once. The body is \
                 optional.",
            )
            .optional_body("LogoutRequest")
            .ok(schema_ref("LoggedOut")),
        op("get", "/api/v1/auth/me")
            .named("getMe", "The caller's account")
            .ok(schema_ref("User")),
        op("post", "/api/v1/auth/change-password")
            .named("changePassword", "Change the caller's password")
            .describe(
                "Needs the current password (a wrong one answers 401 `INVALID_CREDENTIALS`). \
                 The user's other sessions are revoked.",
            )
            .body("ChangePasswordRequest")
            .ok(schema_ref("PasswordChanged"))
            .err(401, &["INVALID_CREDENTIALS"]),
    ]
}

fn patient_operations() -> Vec<Op> {
    const LISTERS: [&str; 2] = ["doctor", "receptionist"];
    let sort = json!({
        "type": "string",
        "enum": ["name", "-last_visit", "-created_at"],
        "default": "-last_visit"
    });
    vec![
        op("get", "/api/v1/patients/list/")
            .named("listPatients", "A page of patients")
            .describe("A doctor sees their own patients; a receptionist sees every doctor's.")
            .roles(&LISTERS)
            .paged()
            .query(
                "search",
                bounded_text(MAX_SEARCH),
                "Only patients matching this, as `/patients/search/` matches.",
            )
            .query(
                "sort",
                sort,
                "The order: by name, most recent visit first, or newest patient first.",
            )
            .ok(schema_ref("PatientPage")),
        op("get", "/api/v1/patients/search/")
            .named("searchPatients", "Search patients (autocomplete)")
            .describe(
                "Matches, case-insensitively, the start of any word of the name, the MRN, phone \
                 digits (formatting ignored) and the email. Ranked exact > prefix > substring, \
                 then most recent visit.",
            )
            .roles(&LISTERS)
            .required_query("q", bounded_text(MAX_SEARCH), "What to search for.")
            .limit(50, 10)
            .ok(schema_ref("PatientSearchResults")),
        op("post", "/api/v1/patients")
            .named("createPatient", "Register a patient")
            .describe(
                "A doctor registers a patient of their own; a receptionist names the doctor with \
                 `doctor_id`.",
            )
            .roles(&LISTERS)
            .body("NewPatient")
            .created(schema_ref("Patient")),
        op("get", "/api/v1/patients/{id}")
            .named("getPatient", "A patient's chart")
            .roles(&["doctor"])
            .path_id("id", "patient")
            .ok(schema_ref("Patient")),
        op("patch", "/api/v1/patients/{id}")
            .named("updatePatient", "Change a patient's chart")
            .describe(
                "An omitted field is left alone; `null` clears an optional one. An empty body \
                 answers 422.",
            )
            .roles(&["doctor"])
            .path_id("id", "patient")
            .body("PatientUpdate")
            .ok(schema_ref("Patient")),
    ]
}

fn consultation_operations() -> Vec<Op> {
    const DOCTOR: [&str; 1] = ["doctor"];
    let no_longer = "A consultation no longer in progress answers 409 `INVALID_STATE`.";
    vec![
        op("post", "/api/v1/consultation/start")
            .named("startConsultation", "Start a consultation")
            .describe("The doctor is the caller. One consultation in progress per patient.")
            .roles(&DOCTOR)
            .body("StartConsultation")
            .created(schema_ref("Consultation"))
            .err(404, &["NOT_FOUND"])
            .err(409, &["CONSULTATION_ACTIVE"]),
        op("get", "/api/v1/consultation/active")
            .named(
                "listActiveConsultations",
                "The caller's consultations in progress",
            )
            .roles(&DOCTOR)
            .ok(schema_ref("ActiveConsultations")),
        op("get", "/api/v1/consultation/{id}")
            .named("getConsultation", "A consultation")
            .roles(&DOCTOR)
            .path_id("id", "consultation")
            .ok(schema_ref("Consultation")),
        op("patch", "/api/v1/consultation/{id}")
            .named("updateConsultationNotes", "Save a consultation's notes")
            .describe(no_longer)
            .roles(&DOCTOR)
            .path_id("id", "consultation")
            .body("NotesUpdate")
            .ok(schema_ref("Consultation"))
            .err(409, &["INVALID_STATE"]),
        op("post", "/api/v1/consultation/{id}/stop")
            .named("stopConsultation", "Complete a consultation")
            .describe(
                "Answers the completed consultation with the `report_id` of the draft report it \
                 produces; the report is generated asynchronously (`pending → generating → \
                 completed`, or `failed`). The body is optional.",
            )
            .describe(no_longer)
            .roles(&DOCTOR)
            .path_id("id", "consultation")
            .optional_body("StopConsultation")
            .ok(schema_ref("Consultation"))
            .err(409, &["INVALID_STATE"]),
        op("post", "/api/v1/consultation/{id}/cancel")
            .named("cancelConsultation", "Cancel a consultation")
            .describe(no_longer)
            .roles(&DOCTOR)
            .path_id("id", "consultation")
            .body("CancelConsultation")
            .ok(schema_ref("Consultation"))
            .err(409, &["INVALID_STATE"]),
        op("get", "/api/v1/consultation/history/{patient_id}")
            .named(
                "getConsultationHistory",
                "A patient's consultations, newest first",
            )
            .describe("Items carry no `notes`.")
            .roles(&DOCTOR)
            .path_id("patient_id", "patient")
            .offset_paged()
            .ok(schema_ref("ConsultationHistory")),
    ]
}

fn report_operations() -> Vec<Op> {
    const DOCTOR: [&str; 1] = ["doctor"];
    let days = json!({ "type": "integer", "minimum": 1, "maximum": 366, "default": 30 });
    vec![
        op("get", "/api/v1/reports/list")
            .named("listReports", "A page of reports, newest first")
            .roles(&DOCTOR)
            .query("patient_id", uuid(), "Only this patient's reports.")
            .query(
                "status",
                schema_ref("ReportStatus"),
                "Only reports in this status.",
            )
            .query(
                "session_type",
                schema_ref("SessionType"),
                "Only reports of consultations of this type.",
            )
            .query(
                "date_from",
                date_or_time(),
                "Only reports created at or after this (a date or an RFC 3339 time).",
            )
            .query(
                "date_to",
                date_or_time(),
                "Only reports created at or before this (a date or an RFC 3339 time).",
            )
            .paged()
            .ok(schema_ref("ReportPage")),
        op("get", "/api/v1/reports/stats")
            .named("getReportStats", "Report statistics")
            .roles(&DOCTOR)
            .query("patient_id", uuid(), "Only this patient's reports.")
            .query("days", days, "How many days `daily` covers, ending today.")
            .ok(schema_ref("ReportStats"))
            .err(404, &["NOT_FOUND"]),
        op("get", "/api/v1/reports/{id}")
            .named("getReport", "A report")
            .roles(&DOCTOR)
            .path_id("id", "report")
            .ok(schema_ref("Report")),
        op("patch", "/api/v1/reports/{id}")
            .named("updateReport", "Edit a report's content")
            .describe(
                "Only `completed` reports. `version` is the version read: a stale one answers \
                 409 `VERSION_CONFLICT`, a signed report 409 `REPORT_SIGNED`, any other status \
                 409 `INVALID_STATE`.",
            )
            .roles(&DOCTOR)
            .path_id("id", "report")
            .body("ReportEdit")
            .ok(schema_ref("Report"))
            .err(409, &["VERSION_CONFLICT", "REPORT_SIGNED", "INVALID_STATE"]),
        op("post", "/api/v1/reports/{id}/sign")
            .named("signReport", "Sign a report")
            .describe(
                "Re-authenticates with the caller's password (a wrong one answers 401 \
                 `INVALID_CREDENTIALS`). Only `completed` reports; afterwards the content is \
                 immutable.",
            )
            .roles(&DOCTOR)
            .path_id("id", "report")
            .body("SignReport")
            .ok(schema_ref("Report"))
            .err(401, &["INVALID_CREDENTIALS"])
            .err(409, &["REPORT_SIGNED", "INVALID_STATE"]),
        op("post", "/api/v1/reports/{id}/addenda")
            .named("addReportAddendum", "Add an addendum to a signed report")
            .describe("Only signed reports (any other status answers 409 `INVALID_STATE`).")
            .roles(&DOCTOR)
            .path_id("id", "report")
            .body("NewAddendum")
            .ok(schema_ref("Report"))
            .err(409, &["INVALID_STATE"]),
    ]
}

fn admin_operations() -> Vec<Op> {
    const ADMIN: [&str; 1] = ["admin"];
    vec![
        op("get", "/api/v1/admin/users")
            .named("listUsers", "A page of user accounts")
            .roles(&ADMIN)
            .offset_paged()
            .ok(schema_ref("AdminUserPage")),
        op("post", "/api/v1/admin/users")
            .named("createUser", "Create a user account")
            .describe("An email already in use answers 422 naming `email`.")
            .roles(&ADMIN)
            .body("NewUser")
            .created(schema_ref("AdminUser")),
        op("post", "/api/v1/admin/users/{id}/unlock")
            .named("unlockUser", "Unlock a locked account")
            .describe("Clears `locked_until` and `failed_logins`.")
            .roles(&ADMIN)
            .path_id("id", "user")
            .ok(schema_ref("AdminUser")),
        op("post", "/api/v1/admin/users/{id}/disable")
            .named("disableUser", "Disable an account")
            .describe("Its sessions are revoked at once and it can no longer log in.")
            .roles(&ADMIN)
            .path_id("id", "user")
            .ok(schema_ref("AdminUser")),
        op("get", "/api/v1/admin/audit")
            .named("listAuditEvents", "A page of audit events, newest first")
            .roles(&ADMIN)
            .query("user_id", uuid(), "Only events of this user.")
            .query("patient_id", uuid(), "Only events about this patient.")
            .query(
                "action",
                bounded_text(MAX_SEARCH),
                "Only events of this action.",
            )
            .query("since", timestamp(), "Only events at or after this time.")
            .query("until", timestamp(), "Only events at or before this time.")
            .offset_paged()
            .ok(schema_ref("AuditEventPage")),
    ]
}

fn ops_operations() -> Vec<Op> {
    let health = |description: &str| {
        json!({
            "description": description,
            "headers": { "X-Request-ID": { "$ref": "#/components/headers/X-Request-ID" } },
            "content": { "application/json": { "schema": schema_ref("Health") } }
        })
    };
    let metrics = json!({
        "description": "Prometheus text exposition format.",
        "content": { "text/plain; version=0.0.4": { "schema": { "type": "string" } } }
    });
    let openapi = json!({
        "description": "The OpenAPI 3.1 document of this API. Not enveloped.",
        "content": { "application/json": { "schema": { "type": "object" } } }
    });
    vec![
        op("get", "/health")
            .named("health", "Liveness")
            .public()
            .describe("200 while the process runs. Not enveloped.")
            .raw(200, health("The process runs: `{\"status\":\"ok\"}`.")),
        op("get", "/ready")
            .named("ready", "Readiness")
            .public()
            .describe("200 when the database answers, else 503. Not enveloped on success.")
            .raw(200, health("Ready to serve."))
            .err(503, &["SERVICE_UNAVAILABLE"]),
        op("get", "/metrics")
            .named("metrics", "Prometheus metrics")
            .public()
            .describe(
                "Request counts and latency histograms by route and status; no PHI in labels.",
            )
            .raw(200, metrics),
        op("get", "/api/v1/openapi.json")
            .named("openapi", "This OpenAPI document")
            .public()
            .raw(200, openapi),
    ]
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{SCHEMAS}{name}") })
}

fn nullable_ref(name: &str) -> Value {
    json!({ "anyOf": [schema_ref(name), { "type": "null" }] })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn opt_string() -> Value {
    json!({ "type": ["string", "null"] })
}

/// Required text: trimmed, 1..=max characters.
fn bounded_text(max: u32) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max })
}

/// Optional text: `null`, absent or up to `max` characters (empty after trimming means absent).
fn opt_text(max: u32) -> Value {
    json!({ "type": ["string", "null"], "maxLength": max })
}

fn text_list(max: u32) -> Value {
    json!({ "type": "array", "maxItems": MAX_LIST_ITEMS, "items": bounded_text(max) })
}

fn list_of(name: &str) -> Value {
    json!({ "type": "array", "items": schema_ref(name) })
}

fn bounded_list_of(name: &str) -> Value {
    json!({ "type": "array", "maxItems": MAX_LIST_ITEMS, "items": schema_ref(name) })
}

fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

fn opt_uuid() -> Value {
    json!({ "type": ["string", "null"], "format": "uuid" })
}

fn timestamp() -> Value {
    json!({ "type": "string", "format": "date-time", "examples": ["2026-11-26T06:33:23.123Z"] })
}

fn opt_timestamp() -> Value {
    extend(&timestamp(), json!({ "type": ["string", "null"] }))
}

fn date() -> Value {
    json!({ "type": "string", "format": "date", "examples": ["2026-11-26"] })
}

fn date_or_time() -> Value {
    json!({ "anyOf": [date(), timestamp()] })
}

fn count() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn opt_count() -> Value {
    json!({ "type": ["integer", "null"], "minimum": 0 })
}

fn seconds() -> Value {
    json!({ "type": "integer", "format": "int64", "description": "Seconds." })
}

fn confidence() -> Value {
    json!({ "type": ["number", "null"], "minimum": 0.0, "maximum": 1.0 })
}

fn email(nullable: bool) -> Value {
    let kind = if nullable {
        json!(["string", "null"])
    } else {
        json!("string")
    };
    json!({ "type": kind, "format": "email", "maxLength": 254 })
}

fn phone() -> Value {
    json!({
        "type": ["string", "null"],
        "maxLength": 40,
        "pattern": "^[0-9 +().-]*$",
        "description": "4 to 15 digits; spaces, +, -, dots and brackets allowed."
    })
}

fn password() -> Value {
    json!({ "type": "string", "minLength": MIN_PASSWORD, "maxLength": MAX_PASSWORD })
}

fn enumeration(description: &str, values: &[&str]) -> Value {
    json!({ "type": "string", "description": description, "enum": values })
}

fn request_id_schema() -> Value {
    json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$" })
}

/// A response object: unknown fields may appear in newer servers.
fn object(description: &str, required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    })
}

/// A request object: the server rejects unknown fields (422).
fn closed(description: &str, required: &[&str], properties: Value) -> Value {
    let mut schema = object(description, required, properties);
    if let Value::Object(map) = &mut schema {
        map.insert("additionalProperties".into(), json!(false));
    }
    schema
}

/// An object whose every property is required: a response type, every field always present.
fn record(description: &str, properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default();
    json!({
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
    })
}

/// `base` with the properties of `extra` added (a `#[serde(flatten)]` struct).
fn extend(base: &Value, extra: Value) -> Value {
    let mut merged = base.clone();
    if let (Value::Object(into), Value::Object(from)) = (&mut merged, extra) {
        into.extend(from);
    }
    merged
}

fn page_of(item: &str) -> Value {
    object(
        &format!("A page of `{item}`."),
        &["items", "pagination"],
        json!({ "items": list_of(item), "pagination": schema_ref("Pagination") }),
    )
}

fn schemas() -> Value {
    let mut all = Map::new();
    for group in [
        envelope_schemas(),
        auth_schemas(),
        patient_schemas(),
        consultation_schemas(),
        report_schemas(),
        admin_schemas(),
    ] {
        for (name, schema) in group {
            all.insert(name.to_string(), schema);
        }
    }
    Value::Object(all)
}

fn error_codes_description() -> String {
    let codes: Vec<String> = ERROR_CODES
        .iter()
        .map(|(code, meaning)| format!("- `{code}`: {meaning}"))
        .collect();
    format!(
        "The body of every error (every non-2xx status, unknown routes included). A 500 never \
         leaks internals: the request id is the handle. Codes:\n\n{}",
        codes.join("\n")
    )
}

fn envelope_schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "SuccessEnvelope",
            record(
                "The body of every success; each operation's response names the type of `data`.",
                json!({
                    "status": { "type": "string", "const": "success" },
                    "data": {},
                    "request_id": string()
                }),
            ),
        ),
        (
            "ErrorEnvelope",
            record(
                &error_codes_description(),
                json!({
                    "status": { "type": "string", "const": "error" },
                    "error": schema_ref("ErrorBody"),
                    "request_id": string()
                }),
            ),
        ),
        (
            "ErrorBody",
            object(
                "What went wrong: a stable code for programs, a message for people, and details.",
                &["code", "message"],
                json!({
                    "code": {
                        "type": "string",
                        "pattern": "^[A-Z][A-Z0-9_]*$",
                        "description": "UPPER_SNAKE; see `ErrorEnvelope` for the codes."
                    },
                    "message": string(),
                    "details": {
                        "type": ["object", "null"],
                        "description": "Code-specific; the documented keys are below.",
                        "properties": {
                            "fields": list_of("FieldError"),
                            "retry_after_s": count(),
                            "locked_until": timestamp(),
                            "consultation_id": uuid()
                        }
                    }
                }),
            ),
        ),
        (
            "FieldError",
            record(
                "One rejected field of a request (`details.fields` of a 422).",
                json!({
                    "field": { "type": "string", "examples": ["symptoms[0].name"] },
                    "message": { "type": "string", "examples": ["must be a past date"] }
                }),
            ),
        ),
        (
            "Pagination",
            record(
                "Where a page sits in its list.",
                json!({
                    "total": count(),
                    "limit": { "type": "integer", "minimum": 1, "maximum": MAX_LIMIT },
                    "offset": count(),
                    "has_more": { "type": "boolean" },
                    "next_cursor": {
                        "type": ["string", "null"],
                        "description": "Pass as `cursor` for the next page; `null` on the last one."
                    }
                }),
            ),
        ),
        (
            "Health",
            object(
                "The answer of `/health` and `/ready`.",
                &["status"],
                json!({ "status": { "type": "string", "examples": ["ok"] } }),
            ),
        ),
    ]
}

fn auth_schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Role",
            enumeration("A user's role.", &["doctor", "admin", "receptionist"]),
        ),
        (
            "User",
            record(
                "A user account.",
                json!({
                    "id": uuid(),
                    "email": email(false),
                    "full_name": string(),
                    "role": schema_ref("Role"),
                    "created_at": timestamp()
                }),
            ),
        ),
        (
            "Tokens",
            record(
                "The tokens of a session.",
                json!({
                    "access_token": {
                        "type": "string",
                        "description": "JWT HS256; send as `Authorization: Bearer …`."
                    },
                    "refresh_token": { "type": "string", "description": "Opaque and single use." },
                    "token_type": { "type": "string", "const": "bearer" },
                    "expires_in": seconds(),
                    "refresh_expires_in": seconds(),
                    "user_id": uuid(),
                    "role": schema_ref("Role"),
                    "user": schema_ref("User")
                }),
            ),
        ),
        (
            "AccessClaims",
            record(
                "The claims of an access token (JWT HS256).",
                json!({
                    "sub": uuid(),
                    "role": schema_ref("Role"),
                    "sid": uuid(),
                    "iat": seconds(),
                    "exp": seconds(),
                    "jti": uuid(),
                    "typ": { "type": "string", "const": "access" }
                }),
            ),
        ),
        (
            "LoginRequest",
            closed(
                "`POST /auth/login`.",
                &["email", "password"],
                json!({ "email": string(), "password": string() }),
            ),
        ),
        (
            "RefreshRequest",
            closed(
                "`POST /auth/refresh`.",
                &["refresh_token"],
                json!({ "refresh_token": string() }),
            ),
        ),
        (
            "LogoutRequest",
            closed(
                "`POST /auth/logout`.",
                &[],
                json!({ "refresh_token": opt_string() }),
            ),
        ),
        (
            "ChangePasswordRequest",
            closed(
                "`POST /auth/change-password`.",
                &["current_password", "new_password"],
                json!({ "current_password": string(), "new_password": password() }),
            ),
        ),
        (
            "LoggedOut",
            record(
                "The session is revoked.",
                json!({ "logged_out": { "type": "boolean" } }),
            ),
        ),
        (
            "PasswordChanged",
            record(
                "The password is changed.",
                json!({ "changed": { "type": "boolean" } }),
            ),
        ),
    ]
}

/// The fields of `PatientSummary`, which `Patient` flattens.
fn patient_summary() -> Value {
    record(
        "A patient as lists show them. Absent values are `null`, never `\"\"`.",
        json!({
            "id": uuid(),
            "mrn": { "type": "string", "examples": ["MRN-004211"] },
            "full_name": string(),
            "date_of_birth": date(),
            "age": count(),
            "sex": schema_ref("Sex"),
            "phone": opt_string(),
            "email": opt_string(),
            "last_visit_at": opt_timestamp(),
            "active_consultation_id": opt_uuid()
        }),
    )
}

/// The editable fields shared by `NewPatient` and `PatientUpdate`.
fn patient_fields() -> Value {
    json!({
        "full_name": bounded_text(MAX_NAME),
        "date_of_birth": {
            "type": "string",
            "format": "date",
            "description": "A past date, on or after 1900-01-01."
        },
        "sex": schema_ref("Sex"),
        "phone": phone(),
        "email": email(true),
        "address": opt_text(MAX_SHORT_TEXT),
        "referred_by": opt_text(MAX_NAME),
        "illness_duration": nullable_ref("TimeSpan"),
        "allergies": nullable_ref("Allergies"),
        "alerts": text_list(MAX_SHORT_TEXT),
        "symptoms": bounded_list_of("Symptom")
    })
}

fn patient_schemas() -> Vec<(&'static str, Value)> {
    let summary = patient_summary();
    let patient = record(
        "A patient's full chart.",
        extend(
            &summary["properties"],
            json!({
                "address": opt_string(),
                "referred_by": opt_string(),
                "illness_duration": nullable_ref("TimeSpan"),
                "allergies": schema_ref("Allergies"),
                "alerts": { "type": "array", "items": string() },
                "symptoms": list_of("Symptom"),
                "consultation_count": count(),
                "created_at": timestamp(),
                "updated_at": timestamp()
            }),
        ),
    );
    let new_patient = closed(
        "`POST /patients`: the chart minus ids and derived fields.",
        &["full_name", "date_of_birth", "sex"],
        extend(
            &patient_fields(),
            json!({
                "doctor_id": {
                    "type": ["string", "null"],
                    "format": "uuid",
                    "description": concat!(
                        "The doctor the patient is registered with: required when a ",
                        "receptionist creates, ignored otherwise."
                    )
                }
            }),
        ),
    );
    let mut update = closed(
        "`PATCH /patients/{id}`: an omitted field is left alone, `null` clears an optional one.",
        &[],
        extend(
            &patient_fields(),
            json!({ "allergies": schema_ref("Allergies") }),
        ),
    );
    if let Value::Object(map) = &mut update {
        map.insert("minProperties".into(), json!(1));
    }
    vec![
        (
            "Sex",
            enumeration("", &["female", "male", "other", "unknown"]),
        ),
        (
            "TimeUnit",
            enumeration("", &["days", "weeks", "months", "years"]),
        ),
        (
            "AllergyStatus",
            enumeration(
                "Whether allergies were asked about.",
                &["known", "none_known", "not_recorded"],
            ),
        ),
        (
            "PatientSort",
            enumeration(
                "The orders of `GET /patients/list/`.",
                &["name", "-last_visit", "-created_at"],
            ),
        ),
        (
            "TimeSpan",
            closed(
                "A span of time as a doctor says it: \"3 weeks\".",
                &["value", "unit"],
                json!({
                    "value": { "type": "integer", "minimum": 1, "maximum": 1000 },
                    "unit": schema_ref("TimeUnit")
                }),
            ),
        ),
        (
            "Allergy",
            closed(
                "One allergy.",
                &["substance"],
                json!({
                    "substance": bounded_text(MAX_NAME),
                    "reaction": opt_text(MAX_SHORT_TEXT),
                    "severity": opt_text(MAX_NAME)
                }),
            ),
        ),
        (
            "Allergies",
            closed(
                "A patient's allergies: `items` (at least one) only when `status` is `known`.",
                &["status"],
                json!({
                    "status": schema_ref("AllergyStatus"),
                    "items": bounded_list_of("Allergy")
                }),
            ),
        ),
        (
            "Symptom",
            closed(
                "One symptom.",
                &["name"],
                json!({
                    "name": bounded_text(MAX_NAME),
                    "severity": opt_text(MAX_NAME),
                    "frequency": opt_text(MAX_NAME),
                    "duration": nullable_ref("TimeSpan"),
                    "notes": opt_text(MAX_LONG_TEXT)
                }),
            ),
        ),
        ("PatientSummary", summary),
        ("Patient", patient),
        ("NewPatient", new_patient),
        ("PatientUpdate", update),
        ("PatientPage", page_of("PatientSummary")),
        (
            "PatientSearchResults",
            record(
                "The answer of `GET /patients/search/`, best match first.",
                json!({ "items": list_of("PatientSummary"), "count": count() }),
            ),
        ),
    ]
}

fn consultation_schemas() -> Vec<(&'static str, Value)> {
    let consultation = object(
        "A consultation. `doctor_id` always comes from the token, never a body.",
        &[
            "id",
            "session_code",
            "patient_id",
            "doctor_id",
            "session_type",
            "status",
            "chief_complaint",
            "started_at",
            "ended_at",
            "duration_minutes",
            "report_id",
            "report_status",
        ],
        json!({
            "id": uuid(),
            "session_code": { "type": "string", "examples": ["CS-20261126-4F2A9C1B"] },
            "patient_id": uuid(),
            "doctor_id": uuid(),
            "session_type": schema_ref("SessionType"),
            "status": schema_ref("ConsultationStatus"),
            "chief_complaint": opt_string(),
            "notes": {
                "type": "string",
                "description": "Absent when none were written, and always in history listings."
            },
            "started_at": timestamp(),
            "ended_at": opt_timestamp(),
            "duration_minutes": opt_count(),
            "report_id": opt_uuid(),
            "report_status": nullable_ref("ReportStatus")
        }),
    );
    vec![
        (
            "SessionType",
            enumeration(
                "",
                &["new_patient", "follow_up", "consultation", "emergency"],
            ),
        ),
        (
            "ConsultationStatus",
            enumeration("", &["in_progress", "completed", "cancelled"]),
        ),
        ("Consultation", consultation),
        (
            "StartConsultation",
            closed(
                "`POST /consultation/start`.",
                &["patient_id", "session_type"],
                json!({
                    "patient_id": uuid(),
                    "session_type": schema_ref("SessionType"),
                    "chief_complaint": opt_string()
                }),
            ),
        ),
        (
            "NotesUpdate",
            closed(
                "`PATCH /consultation/{id}`.",
                &["notes"],
                json!({ "notes": { "type": "string", "maxLength": MAX_NOTES } }),
            ),
        ),
        (
            "StopConsultation",
            closed(
                "`POST /consultation/{id}/stop`: the final notes, if any.",
                &[],
                json!({ "notes": { "type": ["string", "null"], "maxLength": MAX_NOTES } }),
            ),
        ),
        (
            "CancelConsultation",
            closed(
                "`POST /consultation/{id}/cancel`.",
                &["reason"],
                json!({ "reason": { "type": "string", "minLength": 1 } }),
            ),
        ),
        (
            "ActiveConsultations",
            record(
                "The caller's consultations in progress.",
                json!({ "items": list_of("Consultation") }),
            ),
        ),
        (
            "ConsultationHistory",
            record(
                "A patient's consultations, newest first, without notes.",
                json!({
                    "patient_id": uuid(),
                    "patient_name": string(),
                    "items": list_of("Consultation"),
                    "pagination": schema_ref("Pagination")
                }),
            ),
        ),
    ]
}

/// The fields of `ReportSummary`, which `Report` flattens.
fn report_summary() -> Value {
    record(
        "A report as lists show it.",
        json!({
            "id": uuid(),
            "status": schema_ref("ReportStatus"),
            "report_type": string(),
            "confidence": confidence(),
            "created_at": timestamp(),
            "updated_at": timestamp(),
            "signed_at": opt_timestamp(),
            "patient": schema_ref("ReportPatient"),
            "consultation": schema_ref("ReportConsultation")
        }),
    )
}

fn report_schemas() -> Vec<(&'static str, Value)> {
    let summary = report_summary();
    let report = record(
        "A report in full.",
        extend(
            &summary["properties"],
            json!({
                "version": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Send it back with an edit (`ReportEdit.version`)."
                },
                "content": schema_ref("ReportContent"),
                "generator": opt_string(),
                "signed_by": nullable_ref("PersonRef"),
                "addenda": list_of("Addendum"),
                "failure_reason": opt_string()
            }),
        ),
    );
    let mut more = vec![
        ("Report", report),
        (
            "ReportEdit",
            closed(
                "`PATCH /reports/{id}`.",
                &["content", "version"],
                json!({
                    "content": schema_ref("ReportContent"),
                    "version": { "type": "integer", "minimum": 0 }
                }),
            ),
        ),
        (
            "SignReport",
            closed(
                "`POST /reports/{id}/sign`: re-authentication.",
                &["password"],
                json!({ "password": string() }),
            ),
        ),
        (
            "NewAddendum",
            closed(
                "`POST /reports/{id}/addenda`.",
                &["text"],
                json!({ "text": { "type": "string", "minLength": 1 } }),
            ),
        ),
        (
            "ReportFilter",
            object(
                "The filters of `GET /reports/list` that were given, as `filters_applied`.",
                &[],
                json!({
                    "patient_id": uuid(),
                    "status": schema_ref("ReportStatus"),
                    "session_type": schema_ref("SessionType"),
                    "date_from": timestamp(),
                    "date_to": timestamp()
                }),
            ),
        ),
        (
            "ReportPage",
            record(
                "A page of reports, newest first.",
                json!({
                    "items": list_of("ReportSummary"),
                    "pagination": schema_ref("Pagination"),
                    "filters_applied": schema_ref("ReportFilter")
                }),
            ),
        ),
        (
            "StatusCounts",
            record(
                "Reports per status.",
                json!({
                    "pending": count(),
                    "generating": count(),
                    "completed": count(),
                    "signed": count(),
                    "failed": count()
                }),
            ),
        ),
        (
            "DailyCount",
            record(
                "Reports created on one day.",
                json!({ "date": date(), "count": count() }),
            ),
        ),
        (
            "ReportStats",
            record(
                "Statistics over the caller's reports.",
                json!({
                    "total": count(),
                    "by_status": schema_ref("StatusCounts"),
                    "recent_7d": count(),
                    "unsigned": count(),
                    "average_confidence": confidence(),
                    "daily": list_of("DailyCount")
                }),
            ),
        ),
    ];
    let mut all = report_parts();
    all.push(("ReportSummary", summary));
    all.append(&mut more);
    all
}

/// The building blocks of reports: status, embedded patient and consultation, content sections.
fn report_parts() -> Vec<(&'static str, Value)> {
    vec![
        (
            "ReportStatus",
            enumeration(
                "`pending → generating → completed` (or `failed`), then `signed`.",
                &["pending", "generating", "completed", "signed", "failed"],
            ),
        ),
        (
            "ReportPatient",
            record(
                "The patient of a report.",
                json!({
                    "id": uuid(),
                    "mrn": string(),
                    "full_name": string(),
                    "age": count(),
                    "sex": schema_ref("Sex")
                }),
            ),
        ),
        (
            "ReportConsultation",
            record(
                "The consultation a report came from.",
                json!({
                    "id": uuid(),
                    "session_code": string(),
                    "session_type": schema_ref("SessionType"),
                    "chief_complaint": opt_string(),
                    "started_at": timestamp(),
                    "duration_minutes": opt_count()
                }),
            ),
        ),
        (
            "Diagnosis",
            closed(
                "One diagnosis.",
                &["description"],
                json!({ "code": opt_text(40), "description": bounded_text(MAX_SHORT_TEXT) }),
            ),
        ),
        (
            "Medication",
            closed(
                "One line of the medication plan.",
                &["drug"],
                json!({
                    "drug": bounded_text(MAX_NAME),
                    "dosage": opt_text(MAX_NAME),
                    "frequency": opt_text(MAX_NAME),
                    "duration": opt_text(MAX_NAME),
                    "instructions": opt_text(MAX_SHORT_TEXT)
                }),
            ),
        ),
        (
            "ReportContent",
            closed(
                "The sections of a report. A section nobody wrote is `null` (or an empty list).",
                &[],
                json!({
                    "history": opt_text(MAX_LONG_TEXT),
                    "mental_status": opt_text(MAX_LONG_TEXT),
                    "assessment": opt_text(MAX_LONG_TEXT),
                    "diagnoses": bounded_list_of("Diagnosis"),
                    "medication_plan": bounded_list_of("Medication"),
                    "recommendations": text_list(MAX_SHORT_TEXT),
                    "follow_up": opt_text(MAX_LONG_TEXT)
                }),
            ),
        ),
        (
            "PersonRef",
            record(
                "A person named on a report.",
                json!({ "id": uuid(), "full_name": string() }),
            ),
        ),
        (
            "Addendum",
            record(
                "A note added to a signed report.",
                json!({
                    "id": uuid(),
                    "text": string(),
                    "author": schema_ref("PersonRef"),
                    "created_at": timestamp()
                }),
            ),
        ),
    ]
}

fn admin_schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "AdminUser",
            record(
                "A user account as an admin sees it.",
                json!({
                    "id": uuid(),
                    "email": email(false),
                    "full_name": string(),
                    "role": schema_ref("Role"),
                    "created_at": timestamp(),
                    "locked_until": opt_timestamp(),
                    "failed_logins": count(),
                    "disabled": { "type": "boolean" }
                }),
            ),
        ),
        (
            "NewUser",
            closed(
                "`POST /admin/users`.",
                &["email", "full_name", "role", "password"],
                json!({
                    "email": email(false),
                    "full_name": bounded_text(MAX_NAME),
                    "role": schema_ref("Role"),
                    "password": password()
                }),
            ),
        ),
        (
            "AuditEvent",
            record(
                "One row of the append-only audit trail.",
                json!({
                    "id": uuid(),
                    "at": timestamp(),
                    "user_id": opt_uuid(),
                    "action": string(),
                    "resource_type": opt_string(),
                    "resource_id": opt_string(),
                    "patient_id": opt_uuid(),
                    "outcome": string(),
                    "request_id": string(),
                    "ip": opt_string()
                }),
            ),
        ),
        ("AdminUserPage", page_of("AdminUser")),
        ("AuditEventPage", page_of("AuditEvent")),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};

    use super::*;

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

    /// `value`, or what its `$ref` points at.
    fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(target) => doc.pointer(&target[1..]).unwrap(),
            None => value,
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

    #[test]
    fn is_openapi_3_1() {
        let doc = document();
        let version = doc["openapi"].as_str().unwrap();
        assert!(version.starts_with("3.1."), "{version}");
        assert!(doc["info"]["title"].is_string());
        assert!(doc["info"]["version"].is_string());
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["bearerFormat"],
            "JWT"
        );
    }

    #[test]
    fn every_ref_resolves_to_a_component() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 100);
        for target in found {
            assert!(target.starts_with("#/components/"), "{target}");
            assert!(doc.pointer(&target[1..]).is_some(), "unresolved {target}");
        }
    }

    #[test]
    fn every_operation_has_a_unique_id_tags_and_a_2xx() {
        let doc = document();
        let mut ids = HashSet::new();
        for (method, path, op) in each_operation(&doc) {
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(op["summary"].is_string(), "{method} {path}");
            assert!(
                !op["tags"].as_array().unwrap().is_empty(),
                "{method} {path}"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} has no 2xx"
            );
            for (status, response) in responses {
                let response = resolve(&doc, response);
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}"
                );
            }
        }
    }

    #[test]
    fn operations_lists_every_endpoint_of_api_md() {
        let doc = document();
        let got: BTreeSet<(String, String)> = operations(&doc).into_iter().collect();
        let expected: BTreeSet<(String, String)> = [
            ("post", "/api/v1/auth/login"),
            ("post", "/api/v1/auth/refresh"),
            ("post", "/api/v1/auth/logout"),
            ("get", "/api/v1/auth/me"),
            ("post", "/api/v1/auth/change-password"),
            ("get", "/api/v1/patients/list/"),
            ("get", "/api/v1/patients/search/"),
            ("post", "/api/v1/patients"),
            ("get", "/api/v1/patients/{id}"),
            ("patch", "/api/v1/patients/{id}"),
            ("post", "/api/v1/consultation/start"),
            ("get", "/api/v1/consultation/active"),
            ("get", "/api/v1/consultation/{id}"),
            ("patch", "/api/v1/consultation/{id}"),
            ("post", "/api/v1/consultation/{id}/stop"),
            ("post", "/api/v1/consultation/{id}/cancel"),
            ("get", "/api/v1/consultation/history/{patient_id}"),
            ("get", "/api/v1/reports/list"),
            ("get", "/api/v1/reports/stats"),
            ("get", "/api/v1/reports/{id}"),
            ("patch", "/api/v1/reports/{id}"),
            ("post", "/api/v1/reports/{id}/sign"),
            ("post", "/api/v1/reports/{id}/addenda"),
            ("get", "/api/v1/admin/users"),
            ("post", "/api/v1/admin/users"),
            ("post", "/api/v1/admin/users/{id}/unlock"),
            ("post", "/api/v1/admin/users/{id}/disable"),
            ("get", "/api/v1/admin/audit"),
            ("get", "/health"),
            ("get", "/ready"),
            ("get", "/metrics"),
            ("get", "/api/v1/openapi.json"),
        ]
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
        assert_eq!(operations(&doc).len(), 32);
        assert_eq!(got, expected);
        assert!(operations(&json!({})).is_empty());
    }

    #[test]
    fn security_is_bearer_except_on_public_operations() {
        let doc = document();
        let public = [
            "login",
            "refreshTokens",
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
            } else {
                assert_eq!(security, &vec![json!({ "bearer": [] })], "{method} {path}");
                let codes = &resolve(&doc, &op["responses"]["401"])["x-error-codes"];
                for code in AUTH_CODES {
                    assert!(codes.as_array().unwrap().contains(&json!(code)), "{path}");
                }
            }
        }
    }

    #[test]
    fn path_parameters_match_the_template() {
        let doc = document();
        for (method, path, op) in each_operation(&doc) {
            let template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true);
                    p["name"].as_str().unwrap()
                })
                .collect();
            assert_eq!(template, declared, "{method} {path}");
        }
    }

    #[test]
    fn request_bodies_are_closed_and_errors_enveloped() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        for (method, path, op) in each_operation(&doc) {
            if let Some(body) = op.get("requestBody") {
                let target = body["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .unwrap();
                let name = target.trim_start_matches(SCHEMAS);
                assert_eq!(
                    schemas[name]["additionalProperties"], false,
                    "{method} {path}"
                );
                for status in ["413", "415", "422"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let response = resolve(&doc, response);
                if !status.starts_with('2') {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(schema["$ref"], "#/components/schemas/ErrorEnvelope");
                }
            }
        }
    }

    #[test]
    fn success_responses_are_enveloped() {
        let doc = document();
        let op = &doc["paths"]["/api/v1/patients"]["post"];
        let schema = &op["responses"]["201"]["content"]["application/json"]["schema"];
        assert_eq!(schema["properties"]["status"]["const"], "success");
        assert_eq!(
            schema["properties"]["data"]["$ref"],
            "#/components/schemas/Patient"
        );
        assert_eq!(schema["required"], json!(["status", "data", "request_id"]));
    }

    #[test]
    fn particular_errors_are_listed() {
        let doc = document();
        let codes = |path: &str, method: &str, status: &str| {
            resolve(&doc, &doc["paths"][path][method]["responses"][status])["x-error-codes"].clone()
        };
        assert_eq!(
            codes("/api/v1/auth/login", "post", "423"),
            json!(["ACCOUNT_LOCKED"])
        );
        assert_eq!(
            codes("/api/v1/consultation/start", "post", "409"),
            json!(["CONSULTATION_ACTIVE"])
        );
        assert_eq!(
            codes("/api/v1/reports/{id}", "patch", "409"),
            json!(["VERSION_CONFLICT", "REPORT_SIGNED", "INVALID_STATE"])
        );
        assert_eq!(
            codes("/api/v1/admin/audit", "get", "403"),
            json!(["FORBIDDEN", "ACCOUNT_DISABLED"])
        );
        assert_eq!(
            codes("/api/v1/reports/list", "get", "429"),
            json!(["RATE_LIMITED"])
        );
        let limited = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"];
        assert!(resolve(&doc, limited)["headers"]["Retry-After"].is_object());
        let unauthenticated = &doc["paths"]["/api/v1/auth/me"]["get"]["responses"]["401"];
        assert_eq!(
            unauthenticated["$ref"],
            "#/components/responses/Unauthenticated"
        );
        let sign = &doc["paths"]["/api/v1/reports/{id}/sign"]["post"]["responses"]["401"];
        assert_eq!(
            sign["x-error-codes"],
            json!([
                "UNAUTHENTICATED",
                "TOKEN_EXPIRED",
                "SESSION_REVOKED",
                "INVALID_CREDENTIALS"
            ])
        );
    }

    #[test]
    fn schemas_cover_the_model_and_their_required_fields_exist() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "User",
            "Tokens",
            "Role",
            "LoginRequest",
            "RefreshRequest",
            "LogoutRequest",
            "ChangePasswordRequest",
            "LoggedOut",
            "PasswordChanged",
            "AccessClaims",
            "PatientSummary",
            "Patient",
            "NewPatient",
            "PatientUpdate",
            "PatientSort",
            "Allergies",
            "Allergy",
            "AllergyStatus",
            "Symptom",
            "TimeSpan",
            "TimeUnit",
            "Sex",
            "Consultation",
            "StartConsultation",
            "NotesUpdate",
            "StopConsultation",
            "CancelConsultation",
            "ActiveConsultations",
            "ConsultationHistory",
            "SessionType",
            "ConsultationStatus",
            "ReportSummary",
            "Report",
            "ReportContent",
            "ReportEdit",
            "ReportStats",
            "ReportStatus",
            "ReportPatient",
            "ReportConsultation",
            "Diagnosis",
            "Medication",
            "PersonRef",
            "Addendum",
            "SignReport",
            "NewAddendum",
            "ReportFilter",
            "ReportPage",
            "StatusCounts",
            "DailyCount",
            "Pagination",
            "PatientPage",
            "PatientSearchResults",
            "AdminUser",
            "NewUser",
            "AuditEvent",
            "AdminUserPage",
            "AuditEventPage",
            "SuccessEnvelope",
            "ErrorEnvelope",
            "ErrorBody",
            "FieldError",
        ] {
            assert!(schemas.contains_key(name), "missing schema {name}");
        }
        for (name, schema) in schemas {
            let Some(required) = schema.get("required").and_then(Value::as_array) else {
                continue;
            };
            for field in required {
                let field = field.as_str().unwrap();
                assert!(
                    schema["properties"].get(field).is_some(),
                    "{name}.{field} is required but not a property"
                );
            }
        }
        let description = schemas["ErrorEnvelope"]["description"].as_str().unwrap();
        for (code, _) in ERROR_CODES {
            assert!(description.contains(code), "{code}");
        }
        assert_eq!(
            schemas["Patient"]["properties"].as_object().unwrap().len(),
            19
        );
        assert_eq!(
            schemas["Report"]["properties"].as_object().unwrap().len(),
            15
        );
        assert_eq!(
            schemas["PatientSummary"]["properties"]["phone"]["type"],
            json!(["string", "null"])
        );
    }

    #[test]
    fn list_parameters_have_their_ranges() {
        let doc = document();
        let param = |path: &str, name: &str| {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .cloned()
                .unwrap_or(Value::Null)
        };
        let limit = param("/api/v1/patients/list/", "limit");
        assert_eq!(limit["schema"]["maximum"], 100);
        assert_eq!(limit["schema"]["default"], 20);
        let limit = param("/api/v1/patients/search/", "limit");
        assert_eq!(limit["schema"]["maximum"], 50);
        assert_eq!(limit["schema"]["default"], 10);
        assert_eq!(param("/api/v1/patients/search/", "q")["required"], true);
        assert_eq!(
            param("/api/v1/reports/stats", "days")["schema"]["maximum"],
            366
        );
        for path in ["/api/v1/reports/list", "/api/v1/patients/list/"] {
            assert_eq!(param(path, "offset")["schema"]["minimum"], 0, "{path}");
            assert_eq!(param(path, "cursor")["schema"]["type"], "string", "{path}");
        }
        // The short lists page by offset only; the server refuses a cursor there.
        for path in ["/api/v1/admin/audit", "/api/v1/admin/users"] {
            assert_eq!(param(path, "offset")["schema"]["minimum"], 0, "{path}");
            assert_eq!(param(path, "cursor"), Value::Null, "{path}");
        }
    }
}

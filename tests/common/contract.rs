//! The OpenAPI document as a test oracle: every reply the HTTP helper reads is checked against
//! the response schema the document declares for its operation (matched by method, route
//! template and status), with a real JSON Schema validator (draft 2020-12, formats checked).
//! A body that disagrees with its schema, or a status the operation does not declare, fails the
//! test that received it, on whichever engine the suite runs.
//!
//! A status falls back to the operation's `default` response only where the document says the
//! `default` applies (405 and the 5xx statuses); any other undeclared status is a mismatch, so
//! the document must name every error an operation can answer. Requests to no operation (an
//! unknown path, or a known path with another method) must answer the error envelope; the
//! files of `/docs` are not API operations and are not checked here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use serde_json::{Value, json};

/// One operation of the document: its method, its path template split into segments, and
/// its `responses` object.
struct Operation {
    method: String,
    segments: Vec<String>,
    responses: Value,
}

struct Contract {
    components: Value,
    operations: Vec<Operation>,
    /// Compiled validators by schema text, so each schema compiles once per test process.
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| Contract::new(synapse::server::openapi::document()))
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Contract {
    fn new(doc: Value) -> Contract {
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("the document has paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                operations.push(Operation {
                    method: method.to_uppercase(),
                    segments: segments(path),
                    responses: operation["responses"].clone(),
                });
            }
        }
        Contract {
            components: doc["components"].clone(),
            operations,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The operation a request reaches: same method, same number of segments, each literal
    /// segment equal; of several, the one with the fewest parameters (`/consultation/active`
    /// before `/consultation/{id}`), as the router picks.
    fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        let wanted = segments(path);
        self.operations
            .iter()
            .filter(|op| op.method == method && op.segments.len() == wanted.len())
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&wanted)
                    .all(|(template, segment)| template.starts_with('{') || template == segment)
            })
            .min_by_key(|op| op.segments.iter().filter(|s| s.starts_with('{')).count())
    }

    fn validator(&self, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let key = schema.to_string();
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(validator) = cache.get(&key) {
            return Ok(validator.clone());
        }
        // The response schema with the document's components beside it, so its
        // `#/components/schemas/…` references resolve.
        let root = json!({ "components": self.components, "allOf": [schema] });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the document's schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(key, validator.clone());
        Ok(validator)
    }

    fn validate(&self, schema: &Value, body: &Value) -> Result<(), String> {
        let validator = self.validator(schema)?;
        let problems: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("at {}: {e}", e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }
}

/// Checks a reply against the document: `Ok` when the body is what the document declares for
/// this method, path (with or without query and trailing slash), status and content type.
pub fn check(
    method: &Method,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &Value,
) -> Result<(), String> {
    let contract = contract();
    let route = path.split('?').next().unwrap_or_default();
    let Some(operation) = contract.find(method.as_str(), route) else {
        if route == "/docs" || route.starts_with("/docs/") {
            return Ok(());
        }
        // No operation: the fallback (404) or another method on a known path (405).
        return contract.validate(
            &json!({ "$ref": "#/components/schemas/ErrorEnvelope" }),
            body,
        );
    };
    let responses = &operation.responses;
    let declared = &responses[status.to_string()];
    let response = if declared.is_object() {
        declared
    } else if status == 405 || status >= 500 {
        &responses["default"]
    } else {
        return Err(format!(
            "status {status} is not declared for this operation (it declares {:?})",
            responses
                .as_object()
                .map(|r| r.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        ));
    };
    let Some(content) = response["content"].as_object() else {
        return Err(format!("status {status} declares no content"));
    };
    let media = content_type
        .and_then(|t| t.split(';').next())
        .unwrap_or("application/json")
        .trim();
    let schema = content
        .iter()
        .find(|(declared, _)| declared.split(';').next().unwrap_or_default().trim() == media)
        .map(|(_, content)| &content["schema"])
        .ok_or_else(|| {
            format!(
                "content type {media} is not declared for status {status} (it declares {:?})",
                content.keys().collect::<Vec<_>>()
            )
        })?;
    contract.validate(schema, body)
}

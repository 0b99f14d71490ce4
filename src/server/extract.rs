//! Request extractors whose every rejection is an envelope naming the field: JSON bodies (415
//! for other media types, 413 past the limit, 422 naming the bad field, or the key given twice
//! in one object), query strings, and UUIDs in the path.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use uuid::Uuid;

use super::error::ApiError;
use crate::model::envelope::FieldError;

/// Turns a serde error into a message that names what is wrong without echoing the value.
fn describe(path: &str, message: &str) -> FieldError {
    // serde_json appends " at line L column C"; the field path says more to a person.
    let message = match message.find(" at line ") {
        Some(at) => &message[..at],
        None => message,
    };
    let expected = |m: &str| {
        m.split_once(", expected ")
            .map(|(_, e)| e.to_string())
            .unwrap_or_default()
    };
    let field_or = |fallback: &str| {
        if path.is_empty() || path == "." {
            fallback.to_string()
        } else {
            path.to_string()
        }
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        // serde_path_to_error already ends the path with the unknown field's name.
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path.is_empty() || path == "." {
            name.to_string()
        } else {
            path.to_string()
        };
        return FieldError::new(field, "is not a known field; check its spelling");
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path.is_empty() || path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "is required");
    }
    if message.ends_with(", expected string or map") {
        // An enum given something other than a string (`"sex": 7`).
        return FieldError::new(
            field_or("body"),
            "must be one of the allowed values, as a string",
        );
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        return FieldError::new(field_or("body"), format!("must be {}", expected(message)));
    }
    if message.starts_with("unknown variant") {
        return FieldError::new(field_or("body"), format!("must be {}", expected(message)));
    }
    if message.contains("UUID") {
        return FieldError::new(field_or("body"), "must be a UUID");
    }
    if message.contains("premature end of input")
        || message.contains("input contains invalid characters")
        || message.contains("input is out of range")
        || message.contains("trailing input")
        || message.contains("input is not enough")
    {
        return FieldError::new(field_or("body"), "must be a date as YYYY-MM-DD");
    }
    if message.starts_with("invalid digit") || message.starts_with("number too large") {
        return FieldError::new(field_or("body"), "must be a whole number in range");
    }
    if message.starts_with("EOF")
        || message.starts_with("expected")
        || message.starts_with("key must")
        || message.starts_with("trailing")
    {
        return FieldError::new("body", "is not valid JSON");
    }
    FieldError::new(field_or("body"), message.to_string())
}

fn is_json(parts: &axum::http::HeaderMap) -> bool {
    parts
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v.split(';').next().unwrap_or_default().trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Walks a JSON document and notes the path of the first key given twice in one object:
/// serde_json keeps the last of them, so a body could say one thing to a proxy or a log and
/// another to the server.
struct DuplicateKeys<'a> {
    path: String,
    found: &'a RefCell<Option<String>>,
}

impl<'a> DuplicateKeys<'a> {
    fn child(&self, path: String) -> DuplicateKeys<'a> {
        DuplicateKeys {
            path,
            found: self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for DuplicateKeys<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DuplicateKeys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(self.child(format!("{}[{index}]", self.path)))?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if !seen.insert(key) {
                *self.found.borrow_mut() = Some(path);
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(self.child(path))?;
        }
        Ok(())
    }
}

/// The path of the first key given twice in one object of `bytes` (valid JSON), if any.
fn duplicate_key(bytes: &[u8]) -> Option<String> {
    let found = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let _ = DuplicateKeys {
        path: String::new(),
        found: &found,
    }
    .deserialize(&mut deserializer);
    found.into_inner()
}

/// Reads the body (within the size limit) and parses it as JSON, or `None` when it is empty.
async fn read_json<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<Option<T>, ApiError> {
    let json = is_json(req.headers());
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|rejection| ApiError::from_status(rejection.status()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !json {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    // The syntax first, then the shape: deserialising straight into `T` reported an enum field
    // of the wrong type (`"sex": 7`) as broken JSON instead of naming the field.
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        if e.to_string().starts_with("trailing") {
            ApiError::field("body", "is not valid JSON: text follows the object")
        } else {
            ApiError::field("body", "is not valid JSON")
        }
    })?;
    // Every request body is an object; serde would otherwise read a struct from an array.
    if !parsed.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    if let Some(field) = duplicate_key(&bytes) {
        return Err(ApiError::field(
            &field,
            "is given more than once; send each field once",
        ));
    }
    let value = serde_path_to_error::deserialize(parsed).map_err(|e| {
        ApiError::validation(vec![describe(
            &e.path().to_string(),
            &e.inner().to_string(),
        )])
    })?;
    Ok(Some(value))
}

/// A required JSON body.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match read_json(req, state).await? {
            Some(value) => Ok(Json(value)),
            None => Err(ApiError::field("body", "is required: send a JSON object")),
        }
    }
}

/// A JSON body that may be left out (for example `POST /auth/logout`).
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(OptionalJson(read_json(req, state).await?))
    }
}

/// A query string parsed into `T`; unknown parameters are refused like unknown body fields.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                ApiError::validation(vec![describe(
                    &e.path().to_string(),
                    &e.inner().to_string(),
                )])
            })
    }
}

/// For endpoints that take no query parameters: any parameter is unknown, and refused with
/// 422 naming it, like an unknown body field.
pub struct NoQuery;

impl<S: Send + Sync> FromRequestParts<S> for NoQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        match form_urlencoded::parse(query.as_bytes()).next() {
            Some((name, _)) => Err(ApiError::field(
                &name,
                "is not a known parameter; this endpoint takes none",
            )),
            None => Ok(NoQuery),
        }
    }
}

/// The one UUID in the path (`/patients/{id}`), refused with 422 when it is not a UUID.
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        let Some((name, value)) = params.iter().next() else {
            return Err(ApiError::not_found());
        };
        Uuid::parse_str(value).map(PathId).map_err(|_| {
            ApiError::field(
                name,
                "must be a UUID like 0192f0c1-7b4e-7c3a-9d2e-4f5a6b7c8d9e",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{describe, duplicate_key};

    #[test]
    fn keys_given_twice_are_found_with_their_path() {
        assert_eq!(duplicate_key(br#"{"a":1,"b":2}"#), None);
        assert_eq!(duplicate_key(br#"{"a":1,"a":2}"#).as_deref(), Some("a"));
        assert_eq!(
            duplicate_key(br#"{"x":{"s":"p","s":"q"}}"#).as_deref(),
            Some("x.s")
        );
        assert_eq!(
            duplicate_key(br#"{"l":[{"n":1},{"n":1,"n":2}]}"#).as_deref(),
            Some("l[1].n")
        );
        // The same key in two objects is fine.
        assert_eq!(duplicate_key(br#"{"l":[{"n":1},{"n":2}]}"#), None);
    }

    #[test]
    fn messages_name_the_field_without_echoing_values() {
        let e = describe(
            "sex",
            "unknown variant `robot`, expected one of `female`, `male`",
        );
        assert_eq!(e.field, "sex");
        assert!(!e.message.contains("robot"));
        let e = describe("nmae", "unknown field `nmae`, expected one of `full_name`");
        assert_eq!(e.field, "nmae");
        let e = describe(
            "allergies.colour",
            "unknown field `colour`, expected `status`",
        );
        assert_eq!(e.field, "allergies.colour");
        let e = describe("", "missing field `full_name` at line 1 column 2");
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("full_name", "is required")
        );
        let e = describe("limit", "invalid digit found in string");
        assert_eq!(e.field, "limit");
    }
}

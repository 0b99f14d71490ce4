//! The wire types of API.md, shared by the backend and the workstation's client, and the
//! validation of values people type. Nothing here knows about HTTP, SQL or the terminal.

pub mod admin;
pub mod auth;
pub mod consultation;
pub mod envelope;
pub mod page;
pub mod patient;
pub mod query;
pub mod report;
pub mod search;
pub mod text;
pub mod time;
pub mod validate;

/// Deserializes a field that distinguishes "absent" (outer `None`) from "null" (`Some(None)`),
/// so a PATCH can clear a value with `null` and leave it alone by omitting it.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(deserializer).map(Some)
}

//! The wire types of API.md, shared by the backend and the workstation's client, and the
//! validation of values people type. Nothing here knows about HTTP, SQL or the terminal.

pub mod admin;
pub mod auth;
pub mod consultation;
pub mod envelope;
pub mod event;
pub mod export;
pub mod page;
pub mod patient;
pub mod query;
pub mod report;
pub mod schema;
pub mod search;
pub mod status;
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

/// What a person is told who sends `null` for a field that cannot be cleared.
pub const NOT_NULL: &str = "cannot be cleared: send a value, or leave the field out to keep it";

/// Deserializes a PATCH field that may be left out but not cleared: `null` is refused, naming
/// the field, rather than read as if the field were left out (and the edit silently dropped).
pub fn not_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    use serde::de::Error;
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(D::Error::custom(NOT_NULL)),
    }
}

/// The string methods every closed vocabulary of the API has, over its strum derives
/// (`EnumString`, `IntoStaticStr`, `VariantArray`): `as_str()` gives the wire name, `parse()`
/// reads one (exactly, case and all), and with `ALL` every variant in declaration order.
macro_rules! string_enum {
    ($name:ident) => {
        impl $name {
            /// The wire name, as serde writes it.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// The variant of a wire name, or `None` for any other text.
            pub fn parse(text: &str) -> Option<$name> {
                text.parse().ok()
            }
        }
    };
    ($name:ident, ALL) => {
        $crate::model::string_enum!($name);

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = <$name as strum::VariantArray>::VARIANTS;
        }
    };
}
pub(crate) use string_enum;

/// Checks that strum's names of `variants` are serde's, so `as_str`/`parse` and the JSON agree.
#[cfg(test)]
pub(crate) fn string_enum_agrees_with_serde<T: serde::Serialize + Copy + std::fmt::Debug>(
    variants: &[T],
    as_str: fn(T) -> &'static str,
) {
    assert!(!variants.is_empty());
    for variant in variants {
        let json = serde_json::to_value(variant).expect("serialises");
        assert_eq!(json, serde_json::json!(as_str(*variant)), "{variant:?}");
    }
}

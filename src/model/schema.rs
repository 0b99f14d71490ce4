//! The OpenAPI schemas of the values whose limits `validate` enforces. The derives of the wire
//! types point their fields here (`#[schema(schema_with = …)]`), so each limit is written once,
//! in `validate`, and the document states what the server checks.

use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Ref, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema};

use super::page::{DEFAULT_LIMIT, DEFAULT_SEARCH_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_SEARCH_LIMIT};
use super::report::{DEFAULT_STATS_DAYS, MAX_STATS_DAYS};
use super::validate::{
    MAX_CODE, MAX_EMAIL, MAX_LIST_ITEMS, MAX_LONG_TEXT, MAX_NAME, MAX_NOTES, MAX_PASSWORD,
    MAX_PHONE, MAX_SEARCH, MAX_SHORT_TEXT, MAX_SPAN_VALUE, MIN_PASSWORD, MIN_SPAN_VALUE,
};

fn string_type(nullable: bool) -> SchemaType {
    if nullable {
        [Type::String, Type::Null].into_iter().collect()
    } else {
        SchemaType::new(Type::String)
    }
}

/// Text of at most `max` characters; required text has at least one.
fn text(max: usize, nullable: bool) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .min_length((!nullable).then_some(1))
        .max_length(Some(max))
}

fn finish(builder: ObjectBuilder) -> RefOr<Schema> {
    RefOr::T(Schema::Object(builder.build()))
}

/// A name: 1 to `MAX_NAME` characters.
pub fn name() -> RefOr<Schema> {
    finish(text(MAX_NAME, false))
}

/// An optional name-like value, `null` or up to `MAX_NAME` characters.
pub fn opt_name() -> RefOr<Schema> {
    finish(text(MAX_NAME, true))
}

/// A short text: 1 to `MAX_SHORT_TEXT` characters.
pub fn short_text() -> RefOr<Schema> {
    finish(text(MAX_SHORT_TEXT, false))
}

pub fn opt_short_text() -> RefOr<Schema> {
    finish(text(MAX_SHORT_TEXT, true))
}

/// A long text: 1 to `MAX_LONG_TEXT` characters.
pub fn long_text() -> RefOr<Schema> {
    finish(text(MAX_LONG_TEXT, false))
}

pub fn opt_long_text() -> RefOr<Schema> {
    finish(text(MAX_LONG_TEXT, true))
}

/// A diagnosis code (ICD or the like), `null` or up to `MAX_CODE` characters.
pub fn opt_code() -> RefOr<Schema> {
    finish(text(MAX_CODE, true))
}

/// Consultation notes: free text up to `MAX_NOTES` characters, empty allowed.
pub fn notes() -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_NOTES)),
    )
}

pub fn opt_notes() -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(string_type(true))
            .max_length(Some(MAX_NOTES)),
    )
}

/// A search term: 1 to `MAX_SEARCH` characters.
pub fn search() -> RefOr<Schema> {
    finish(text(MAX_SEARCH, false))
}

pub fn email() -> RefOr<Schema> {
    finish(
        text(MAX_EMAIL, false)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .examples(["anna.smith@example.com"]),
    )
}

pub fn opt_email() -> RefOr<Schema> {
    finish(
        text(MAX_EMAIL, true)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .examples(["anna.smith@example.com"]),
    )
}

pub fn opt_phone() -> RefOr<Schema> {
    finish(
        text(MAX_PHONE, true)
            .pattern(Some("^[0-9 +().-]*$"))
            .description(Some(
                "4 to 15 digits; spaces, +, -, dots and brackets allowed.",
            ))
            .examples(["+91 98765 43210"]),
    )
}

/// A new password: `MIN_PASSWORD` to `MAX_PASSWORD` characters.
pub fn password() -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(MIN_PASSWORD))
            .max_length(Some(MAX_PASSWORD)),
    )
}

/// The number of a time span, `MIN_SPAN_VALUE` to `MAX_SPAN_VALUE`.
pub fn span_value() -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(MIN_SPAN_VALUE))
            .maximum(Some(MAX_SPAN_VALUE)),
    )
}

/// A list of at most `MAX_LIST_ITEMS` values of `T`.
pub fn list_of<T: ToSchema>() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(Ref::from_schema_name(T::name()))
            .max_items(Some(MAX_LIST_ITEMS))
            .build(),
    ))
}

/// A list of at most `MAX_LIST_ITEMS` short texts.
pub fn short_texts() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(text(MAX_SHORT_TEXT, false))
            .max_items(Some(MAX_LIST_ITEMS))
            .build(),
    ))
}

/// `list_of` for the fields of the wire types (`schema_with` takes a function path).
pub fn allergy_list() -> RefOr<Schema> {
    list_of::<super::patient::Allergy>()
}

pub fn symptom_list() -> RefOr<Schema> {
    list_of::<super::patient::Symptom>()
}

pub fn diagnosis_list() -> RefOr<Schema> {
    list_of::<super::report::Diagnosis>()
}

pub fn medication_list() -> RefOr<Schema> {
    list_of::<super::report::Medication>()
}

fn bounded_integer(min: u64, max: u64, default: Option<u64>) -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(min))
            .maximum(Some(max))
            .default(default.map(Into::into)),
    )
}

/// `limit` of the paged lists.
pub fn list_limit() -> RefOr<Schema> {
    bounded_integer(1, MAX_LIMIT.into(), Some(DEFAULT_LIMIT.into()))
}

/// `limit` of the patient search.
pub fn search_limit() -> RefOr<Schema> {
    bounded_integer(
        1,
        MAX_SEARCH_LIMIT.into(),
        Some(DEFAULT_SEARCH_LIMIT.into()),
    )
}

pub fn offset() -> RefOr<Schema> {
    bounded_integer(0, MAX_OFFSET, Some(0))
}

/// `days` of the report statistics.
pub fn stats_days() -> RefOr<Schema> {
    bounded_integer(1, MAX_STATS_DAYS.into(), Some(DEFAULT_STATS_DAYS.into()))
}

/// An opaque cursor: what the previous page's `next_cursor` said.
pub fn cursor() -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1)),
    )
}

/// A date (`2026-11-26`) or an RFC 3339 time, as the list filters read them.
pub fn date_or_time() -> RefOr<Schema> {
    finish(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A date (`2026-11-26`) or an RFC 3339 time."))
            .examples(["2026-11-26", "2026-11-26T06:33:23.123Z"]),
    )
}

/// A query parameter's schema as a type, for `#[param(inline, value_type = …)]`: a parameter
/// given by a `schema_with` function loses its description and `required`.
macro_rules! parameter_schema {
    ($($(#[$doc:meta])* $name:ident => $schema:ident,)*) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    $schema()
                }
            }

            impl ToSchema for $name {}
        )*
    };
}

parameter_schema! {
    /// `limit` of the paged lists.
    ListLimit => list_limit,
    /// `limit` of the patient search.
    SearchLimit => search_limit,
    /// `offset` of the paged lists.
    Offset => offset,
    /// `cursor` of the paged lists.
    Cursor => cursor,
    /// `days` of the report statistics.
    StatsDays => stats_days,
    /// A search term.
    SearchTerm => search,
    /// A date or an RFC 3339 time.
    DateOrTime => date_or_time,
}

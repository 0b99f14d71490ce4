//! How a command prints what it got: `--format table|json|ndjson|csv` (`--json` is short for
//! `--format json`) and `--fields a,b,c`. Every listing and showing command hands its data here
//! as JSON (the API's `data`), with its own human table for `table`; so the shapes are the same
//! for every command: a list is `{items, pagination}` in JSON, one object per line in NDJSON,
//! one row per item in CSV (RFC 4180, a header row), and one object is one row.
//!
//! `--fields` picks and orders the keys by their JSON names; a nested key is dotted
//! (`patient.mrn`). A name the data does not have is a usage error listing the names it has.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// JSON that keeps its keys in the order they were written (the API's field order), which
/// `serde_json::Value` sorts.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// An object's members, in order.
pub type Map = Vec<(String, Value)>;

impl Value {
    /// Any serializable data, its keys in their order.
    pub fn of<T: Serialize>(data: &T) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&serde_json::to_string(data)?)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
                Ok(Value::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
                Ok(Value::Number(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
                Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
            }
            fn visit_str<E>(self, s: &str) -> Result<Value, E> {
                Ok(Value::String(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Value, E> {
                Ok(Value::String(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    members.push((key, value));
                }
                Ok(Value::Object(members))
            }
        }
        deserializer.deserialize_any(Ordered)
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a person (the default).
    #[default]
    Table,
    /// The API's data, pretty-printed.
    Json,
    /// One JSON object a line: the items of a list.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

/// The output flags of a command that prints data.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "json")]
    pub format: Option<Format>,
    /// Short for --format json.
    #[arg(long)]
    pub json: bool,
    /// Only these fields, in this order, by their JSON names (dotted for nested: patient.mrn).
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub fields: Vec<String>,
}

impl OutputArgs {
    /// The format chosen, `--json` included.
    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.unwrap_or_default()
        }
    }

    /// These flags, with `outer`'s filling what these leave unset (flags given before the
    /// command's name).
    pub fn or(mut self, outer: &OutputArgs) -> OutputArgs {
        if self.format.is_none() && !self.json {
            self.format = outer.format;
            self.json = outer.json;
        }
        if self.fields.is_empty() {
            self.fields = outer.fields.clone();
        }
        self
    }
}

/// What a command prints: a list (`{items, pagination}`) or one object.
pub enum Data {
    List(Value),
    One(Value),
}

/// Why nothing could be printed.
#[derive(Debug, PartialEq, Eq)]
pub enum OutputError {
    /// A `--fields` name the data does not have (the message lists the valid ones).
    UnknownField(String),
    /// Writing failed.
    Write(String),
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::UnknownField(message) | OutputError::Write(message) => {
                f.write_str(message)
            }
        }
    }
}

/// Prints `data` in the chosen format on standard output (see `render`).
pub fn print(
    args: &OutputArgs,
    data: Data,
    table: impl FnOnce() -> String,
) -> Result<(), OutputError> {
    use std::io::Write;
    let text = render(args, data, table)?;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is the reader's choice, not a failure to report.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    Ok(())
}

/// The text to print for `data` in the chosen format; `table` is the command's own human
/// table, used for `table` without `--fields`.
pub fn render(
    args: &OutputArgs,
    data: Data,
    table: impl FnOnce() -> String,
) -> Result<String, OutputError> {
    let format = args.format();
    let (items, list) = match &data {
        Data::List(page) => (
            match page.get("items") {
                Some(Value::Array(items)) => items.clone(),
                _ => Vec::new(),
            },
            true,
        ),
        Data::One(value) => (vec![value.clone()], false),
    };
    let columns = columns(&items);
    if !args.fields.is_empty() {
        check_fields(&args.fields, &columns, &items)?;
    }
    let selected: Vec<Value> = if args.fields.is_empty() {
        items.clone()
    } else {
        items
            .iter()
            .map(|item| select(item, &args.fields))
            .collect()
    };
    let chosen: Vec<String> = if args.fields.is_empty() {
        columns
    } else {
        args.fields.clone()
    };
    match format {
        Format::Table if args.fields.is_empty() => Ok(table()),
        Format::Table => {
            let headers: Vec<String> = chosen.iter().map(|c| c.to_uppercase()).collect();
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|item| chosen.iter().map(|c| cell(lookup(item, c))).collect())
                .collect();
            Ok(super::table::table(&headers, &rows))
        }
        Format::Json => {
            let value = match (data, list) {
                (Data::List(mut page), true) => {
                    if let Value::Object(members) = &mut page {
                        for (key, value) in members.iter_mut() {
                            if key == "items" {
                                *value = Value::Array(selected.clone());
                            }
                        }
                    }
                    page
                }
                _ => selected.into_iter().next().unwrap_or(Value::Null),
            };
            serde_json::to_string_pretty(&value)
                .map(|text| text + "\n")
                .map_err(|e| OutputError::Write(format!("cannot print JSON: {e}")))
        }
        Format::Ndjson => {
            let mut out = String::new();
            for item in &selected {
                let line = serde_json::to_string(item)
                    .map_err(|e| OutputError::Write(format!("cannot print JSON: {e}")))?;
                out.push_str(&line);
                out.push('\n');
            }
            Ok(out)
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let write = |e: csv::Error| OutputError::Write(format!("cannot print CSV: {e}"));
            writer.write_record(&chosen).map_err(write)?;
            for item in &items {
                writer
                    .write_record(chosen.iter().map(|c| cell(lookup(item, c))))
                    .map_err(write)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|e| OutputError::Write(format!("cannot print CSV: {e}")))?;
            String::from_utf8(bytes)
                .map_err(|e| OutputError::Write(format!("cannot print CSV: {e}")))
        }
    }
}

/// The dotted names of every scalar (and array) in the items, in first-seen order.
fn columns(items: &[Value]) -> Vec<String> {
    let mut names = Vec::new();
    for item in items {
        flatten_names("", item, &mut names);
    }
    names
}

fn flatten_names(prefix: &str, value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_names(&name, inner, names);
            }
        }
        _ if prefix.is_empty() => {}
        _ => {
            if !names.iter().any(|n| n == prefix) {
                names.push(prefix.to_string());
            }
        }
    }
}

/// Every name must be a column, or an object holding columns (`patient` for `patient.*`).
fn check_fields(fields: &[String], columns: &[String], items: &[Value]) -> Result<(), OutputError> {
    // With no items there is nothing to check the names against, and nothing to print.
    if items.is_empty() {
        return Ok(());
    }
    for field in fields {
        let known = columns
            .iter()
            .any(|c| c == field || c.starts_with(&format!("{field}.")));
        if !known {
            return Err(OutputError::UnknownField(format!(
                "--fields: no field {field:?}; the fields are {}",
                columns.join(", ")
            )));
        }
    }
    Ok(())
}

/// The value at a dotted name.
fn lookup<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    name.split('.').try_fold(item, |value, key| value.get(key))
}

/// The item with only the named fields, nested as in the item, in the order named.
fn select(item: &Value, fields: &[String]) -> Value {
    let mut out = Map::new();
    for field in fields {
        let value = lookup(item, field).cloned().unwrap_or(Value::Null);
        let keys: Vec<&str> = field.split('.').collect();
        insert_at(&mut out, &keys, value);
    }
    Value::Object(out)
}

fn insert_at(map: &mut Map, keys: &[&str], value: Value) {
    match keys {
        [] => {}
        [last] => {
            map.push(((*last).to_string(), value));
        }
        [first, rest @ ..] => {
            let at = match map.iter().position(|(k, _)| k == first) {
                Some(at) => at,
                None => {
                    map.push(((*first).to_string(), Value::Object(Map::new())));
                    map.len() - 1
                }
            };
            if !matches!(map[at].1, Value::Object(_)) {
                map[at].1 = Value::Object(Map::new());
            }
            if let Value::Object(inner) = &mut map[at].1 {
                insert_at(inner, rest, value);
            }
        }
    }
}

/// A value as one cell: strings as they are, nothing for null, anything else as JSON.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: serde_json::Value) -> Value {
        Value::of(&value).unwrap()
    }

    fn page() -> Value {
        serde_json::from_str(
            r#"{
                "items": [
                    {"id": "a", "name": "Ann, \"Jr\"", "patient": {"mrn": "M1", "age": 4}, "tags": [1]},
                    {"id": "b", "name": "Bo", "patient": {"mrn": "M2", "age": null}, "tags": []}
                ],
                "pagination": {"total": 2, "has_more": false, "next_cursor": null}
            }"#,
        )
        .unwrap()
    }

    fn args(format: Format, fields: &[&str]) -> OutputArgs {
        OutputArgs {
            format: Some(format),
            json: false,
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn csv_has_a_header_and_quotes_as_rfc_4180_says() {
        let out = render(&args(Format::Csv, &[]), Data::List(page()), String::new).unwrap();
        assert_eq!(
            out,
            "id,name,patient.mrn,patient.age,tags\n\
             a,\"Ann, \"\"Jr\"\"\",M1,4,[1]\n\
             b,Bo,M2,,[]\n"
        );
    }

    #[test]
    fn fields_pick_and_order_keys_in_every_format() {
        let fields = ["patient.mrn", "id"];
        let csv = render(&args(Format::Csv, &fields), Data::List(page()), String::new).unwrap();
        assert_eq!(csv, "patient.mrn,id\nM1,a\nM2,b\n");
        let ndjson = render(
            &args(Format::Ndjson, &fields),
            Data::List(page()),
            String::new,
        )
        .unwrap();
        assert_eq!(
            ndjson,
            "{\"patient\":{\"mrn\":\"M1\"},\"id\":\"a\"}\n{\"patient\":{\"mrn\":\"M2\"},\"id\":\"b\"}\n"
        );
        let json = render(
            &args(Format::Json, &fields),
            Data::List(page()),
            String::new,
        )
        .unwrap();
        let json: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            json["items"][1],
            serde_json::json!({"patient": {"mrn": "M2"}, "id": "b"})
        );
        assert_eq!(json["pagination"]["total"], 2);
        let table = render(
            &args(Format::Table, &fields),
            Data::List(page()),
            String::new,
        )
        .unwrap();
        assert_eq!(table, "PATIENT.MRN  ID\nM1           a\nM2           b\n");
    }

    #[test]
    fn an_unknown_field_names_the_valid_ones() {
        let error = render(
            &args(Format::Csv, &["nope"]),
            Data::List(page()),
            String::new,
        )
        .unwrap_err();
        let OutputError::UnknownField(message) = error else {
            panic!("{error:?}")
        };
        assert!(message.contains("\"nope\""), "{message}");
        assert!(message.contains("patient.mrn"), "{message}");
    }

    #[test]
    fn one_object_is_one_row_and_table_is_the_commands_own() {
        let one = json(serde_json::json!({"id": "a", "role": "doctor"}));
        let csv = render(&args(Format::Csv, &[]), Data::One(one.clone()), String::new).unwrap();
        assert_eq!(csv, "id,role\na,doctor\n");
        let table = render(&OutputArgs::default(), Data::One(one), || "human\n".into()).unwrap();
        assert_eq!(table, "human\n");
    }
}

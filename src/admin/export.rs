//! `synapse admin audit export`: the audit trail written out as it is read, a page at a time
//! (keyset pages from the store), so the memory used does not grow with the range: a year's
//! trail streams like a day's. JSON lines carry the API's audit event; CSV the same columns.

use std::io::Write;

use super::{Failure, failed};
use crate::model::admin::AuditEvent;
use crate::model::time::format_timestamp;
use crate::store::{Administrator, AuditPosition, AuditQuery, Store};

/// Rows read per page.
pub const PAGE_ROWS: u32 = 1000;

/// The columns of the CSV export, in order: the fields of the API's audit event.
const CSV_COLUMNS: [&str; 11] = [
    "id",
    "at",
    "user_id",
    "action",
    "resource_type",
    "resource_id",
    "patient_id",
    "outcome",
    "request_id",
    "ip",
    "client_request_id",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text.trim().to_ascii_lowercase().as_str() {
            "jsonl" => Some(Format::Jsonl),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Writes every row of `query` to `out` in `format`, oldest first, page by page; answers how
/// many. A reader that stops early (`| head`) ends the export without an error.
pub async fn export(
    store: &dyn Store,
    by: &Administrator,
    query: AuditQuery,
    format: Format,
    out: impl Write,
) -> Result<u64, Failure> {
    let mut out = std::io::BufWriter::new(out);
    let mut after = None;
    let mut written = 0u64;
    let outcome: std::io::Result<()> = async {
        if format == Format::Csv {
            writeln!(out, "{}", CSV_COLUMNS.join(","))?;
        }
        loop {
            let page = store
                .export_audit(by, &query, after)
                .await
                .map_err(std::io::Error::other)?;
            for event in &page {
                write_row(&mut out, format, event)?;
                written += 1;
            }
            // Each page goes out before the next is read.
            out.flush()?;
            match page.last() {
                Some(last) if page.len() as u32 == query.limit => {
                    after = Some(AuditPosition {
                        at: last.at,
                        id: last.id,
                    });
                }
                _ => return Ok(()),
            }
        }
    }
    .await;
    match outcome {
        Ok(()) => Ok(written),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(written),
        Err(error) => Err(failed(format!(
            "the export stopped after {written} rows: {error}"
        ))),
    }
}

fn write_row(out: &mut impl Write, format: Format, event: &AuditEvent) -> std::io::Result<()> {
    match format {
        Format::Jsonl => {
            serde_json::to_writer(&mut *out, event)?;
            writeln!(out)
        }
        Format::Csv => writeln!(out, "{}", csv_row(event)),
    }
}

fn csv_row(event: &AuditEvent) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let id = |value: Option<uuid::Uuid>| value.map(|id| id.to_string()).unwrap_or_default();
    [
        event.id.to_string(),
        format_timestamp(event.at),
        id(event.user_id),
        event.action.clone(),
        text(&event.resource_type),
        text(&event.resource_id),
        id(event.patient_id),
        event.outcome.clone(),
        event.request_id.clone(),
        text(&event.ip),
        text(&event.client_request_id),
    ]
    .iter()
    .map(|field| csv_field(field))
    .collect::<Vec<_>>()
    .join(",")
}

/// A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or a
/// line break.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("admin.user_create"), "admin.user_create");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formats_are_named_as_the_flag_takes_them() {
        assert_eq!(Format::parse("jsonl"), Some(Format::Jsonl));
        assert_eq!(Format::parse("CSV"), Some(Format::Csv));
        assert_eq!(Format::parse("json"), None);
    }
}

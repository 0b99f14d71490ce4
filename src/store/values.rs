//! Values both engines compute the same way from what they store: folded names for search,
//! LIKE escaping, consultation codes and durations, offset pagination, today's date.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::model::page::Pagination;
use crate::model::time::now;

/// The name as search sees it: lower-cased, with a leading space so " smi" marks a word start.
pub fn fold_name(name: &str) -> String {
    format!(" {}", name.to_lowercase())
}

/// Escapes `\`, `%` and `_` so a search term matches them literally in `LIKE … ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Today's date in UTC, for ages.
pub fn today() -> NaiveDate {
    now().date_naive()
}

/// A human-readable, unique-enough code: `CS-20261126-4F2A9C1B`.
pub fn session_code(id: Uuid, at: DateTime<Utc>) -> String {
    let bytes = id.as_bytes();
    // The last bytes of a v7 UUID are random; the first ones are the timestamp.
    format!(
        "CS-{}-{}",
        at.format("%Y%m%d"),
        hex::encode_upper(&bytes[12..16])
    )
}

/// Minutes between start and end, rounded; `None` while the consultation runs.
pub fn duration_minutes(started_at: DateTime<Utc>, ended_at: Option<DateTime<Utc>>) -> Option<u32> {
    ended_at.map(|end| ((end - started_at).num_seconds().max(0) as f64 / 60.0).round() as u32)
}

/// Pagination for an offset page.
pub fn offset_pagination(total: i64, limit: u32, offset: u64, returned: usize) -> Pagination {
    let total = total.max(0) as u64;
    Pagination {
        total,
        limit,
        offset,
        has_more: offset + (returned as u64) < total,
        next_cursor: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped_and_names_folded() {
        assert_eq!(escape_like(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(fold_name("Anna SMITH"), " anna smith");
    }

    #[test]
    fn offset_pages_know_whether_more_follow() {
        assert!(offset_pagination(45, 20, 20, 20).has_more);
        assert!(!offset_pagination(45, 20, 40, 5).has_more);
    }
}

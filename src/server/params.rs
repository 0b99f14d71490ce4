//! Query parameters shared by the lists, checked with messages that name the parameter:
//! `limit` in range, `offset` or `cursor` (not both), dates as dates or RFC 3339 times.

use chrono::{DateTime, Utc};

use super::error::ApiError;
use crate::model::page::{DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET};
use crate::model::time;
use crate::store::PageStart;

/// Checks `limit` against `1..=max`, defaulting to `default`.
pub fn limit(value: Option<u32>, default: u32, max: u32) -> Result<u32, ApiError> {
    match value {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            "limit",
            format!("must be between 1 and {max}"),
        )),
    }
}

/// The page size of a list (1–100, default 20).
pub fn list_limit(value: Option<u32>) -> Result<u32, ApiError> {
    limit(value, DEFAULT_LIMIT, MAX_LIMIT)
}

/// Where a list page starts: an offset or a cursor, never both.
pub fn page_start(offset: Option<u64>, cursor: Option<String>) -> Result<PageStart, ApiError> {
    match (offset, cursor) {
        (Some(_), Some(_)) => Err(ApiError::field(
            "cursor",
            "cannot be combined with offset; send one or the other",
        )),
        (_, Some(cursor)) if cursor.is_empty() => Err(ApiError::field(
            "cursor",
            "is empty; leave it out for the first page",
        )),
        (_, Some(cursor)) => Ok(PageStart::Cursor(cursor)),
        (Some(offset), None) if offset > MAX_OFFSET => Err(ApiError::field(
            "offset",
            "is too large; use the cursor to page deep",
        )),
        (offset, None) => Ok(PageStart::Offset(offset.unwrap_or(0))),
    }
}

/// A plain offset for lists that have no cursor.
pub fn offset(value: Option<u64>) -> Result<u64, ApiError> {
    match page_start(value, None)? {
        PageStart::Offset(o) => Ok(o),
        PageStart::Cursor(_) => Ok(0),
    }
}

/// A date (`2026-11-26`) or an RFC 3339 time. A bare date as an upper bound means the end of
/// that day, so `date_to=2026-11-26` includes the whole day.
pub fn time_bound(
    field: &str,
    value: Option<&str>,
    end_of_day: bool,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    time::time_bound(value, end_of_day)
        .map(Some)
        .ok_or_else(|| ApiError::field(field, "must be a date (2026-11-26) or an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked_not_clamped() {
        assert_eq!(list_limit(None).unwrap(), 20);
        assert!(list_limit(Some(0)).is_err());
        assert!(list_limit(Some(101)).is_err());
        assert_eq!(limit(Some(50), 10, 50).unwrap(), 50);
    }

    #[test]
    fn date_bounds_cover_whole_days() {
        let to = time_bound("date_to", Some("2026-11-26"), true)
            .unwrap()
            .unwrap();
        assert_eq!(
            crate::model::time::format_timestamp(to),
            "2026-11-27T00:00:00.000Z"
        );
        assert!(time_bound("date_to", Some("yesterday"), true).is_err());
    }
}

//! Keyset paging shared by the PostgreSQL lists: where a page starts, the row comparison that
//! continues after the previous page, and the cursor for the next one.
//!
//! Cursors are the SQLite engine's, byte for byte: the sort key travels as text, and times as
//! the fixed-width RFC 3339 text of `format_timestamp` (a patient never seen has the empty key,
//! which SQLite stores and PostgreSQL keeps as `-infinity`). A cursor from one engine therefore
//! continues the same order on the other.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;

use super::rows;
use super::statement::Statement;
use crate::model::envelope::FieldError;
use crate::model::time::{format_timestamp, parse_timestamp};
use crate::store::cursor::Cursor;
use crate::store::{PageStart, StoreError, StoreResult};

/// What the sort column holds, which decides how its cursor key is read and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    /// A `timestamptz`, selected as the row's time (NULL for `-infinity` when `never` is set).
    Time { never: bool },
}

/// One list order: the cursor scope, the sort column and its direction.
pub(super) struct Keyset {
    pub scope: &'static str,
    /// The sort column in SQL (`p.name_folded`), and the name its value is selected under.
    pub column: &'static str,
    pub selected_as: &'static str,
    /// The id column in SQL (`p.id`), selected as `id`.
    pub id_column: &'static str,
    pub ascending: bool,
    pub kind: KeyKind,
}

fn invalid_cursor() -> StoreError {
    StoreError::Invalid(vec![FieldError::new(
        "cursor",
        "is not a cursor of this list; start again without a cursor",
    )])
}

impl Keyset {
    /// Decodes where the page starts: the cursor (if any) and the offset of its first row.
    pub fn start(&self, start: &PageStart) -> StoreResult<(Option<Cursor>, u64)> {
        match start {
            PageStart::Offset(offset) => Ok((None, *offset)),
            PageStart::Cursor(text) => {
                let cursor =
                    Cursor::decode(text, self.scope).map_err(|e| StoreError::Invalid(vec![e]))?;
                // A key PostgreSQL could not compare is refused here, not as a database error.
                self.key_literal(&cursor.key)?;
                let offset = cursor.offset;
                Ok((Some(cursor), offset))
            }
        }
    }

    /// The cursor key as the text bound for the sort column (cast to timestamptz for times).
    fn key_literal(&self, key: &str) -> StoreResult<String> {
        match self.kind {
            KeyKind::Time { never: true } if key.is_empty() => Ok("-infinity".to_string()),
            KeyKind::Time { .. } => parse_timestamp(key)
                .map(format_timestamp)
                .ok_or_else(invalid_cursor),
        }
    }

    /// `AND (sort, id) > (key, id)` after the cursor's row (`<` when descending).
    pub fn push_after(&self, sql: &mut Statement, cursor: &Cursor) -> StoreResult<()> {
        let compare = if self.ascending { ">" } else { "<" };
        let id = uuid::Uuid::parse_str(&cursor.id).map_err(|_| invalid_cursor())?;
        sql.push(&format!(
            " AND ({}, {}) {compare} (",
            self.column, self.id_column
        ))
        .bind(self.key_literal(&cursor.key)?);
        if matches!(self.kind, KeyKind::Time { .. }) {
            sql.push("::timestamptz");
        }
        sql.push(", ").bind(id).push(")");
        Ok(())
    }

    /// `ORDER BY … LIMIT limit+1 [OFFSET …]`: one row more than asked shows whether more follow.
    pub fn push_order_and_limit(
        &self,
        sql: &mut Statement,
        limit: u32,
        cursor: Option<&Cursor>,
        offset: u64,
    ) {
        let order = if self.ascending { "ASC" } else { "DESC" };
        sql.push(&format!(
            " ORDER BY {} {order}, {} {order} LIMIT ",
            self.column, self.id_column
        ))
        .bind(i64::from(limit) + 1);
        if cursor.is_none() {
            sql.push(" OFFSET ").bind(offset as i64);
        }
    }

    /// The cursor key of a row: what the SQLite engine would have stored in the sort column.
    fn key_of(&self, row: &PgRow) -> StoreResult<String> {
        match self.kind {
            KeyKind::Time { .. } => Ok(rows::get::<Option<DateTime<Utc>>>(row, self.selected_as)?
                .map(format_timestamp)
                .unwrap_or_default()),
        }
    }

    /// Trims the extra row and makes the cursor of the next page.
    pub fn finish(
        &self,
        found: &mut Vec<PgRow>,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(bool, Option<String>)> {
        let has_more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next = match found.last() {
            Some(last) if has_more => Some(
                Cursor {
                    scope: self.scope.to_string(),
                    key: self.key_of(last)?,
                    id: rows::get::<uuid::Uuid>(last, "id")?.to_string(),
                    offset: offset + found.len() as u64,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok((has_more, next))
    }
}

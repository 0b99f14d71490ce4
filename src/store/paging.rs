//! Keyset paging for the lists of both engines: where a page starts, the row comparison that
//! continues after the previous page, the cursor for the next one, and reading a page with its
//! total on one connection.
//!
//! Cursors are the same on both engines, byte for byte: the sort key travels as text, and times
//! as the fixed-width RFC 3339 text of `format_timestamp` (a patient never seen has the empty
//! key, which SQLite stores and PostgreSQL keeps as `-infinity`). A cursor from one engine
//! therefore continues the same order on the other.

use uuid::Uuid;

use super::cursor::Cursor;
use super::sql::{self, Conn, Dialect, Row, Statement};
use super::values::offset_pagination;
use super::{PageStart, StoreError, StoreResult};
use crate::model::envelope::FieldError;
use crate::model::page::Page;
use crate::model::time::{format_timestamp, parse_timestamp};

/// What the sort column holds, which decides how its cursor key is read and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Text compared byte by byte.
    Text,
    /// A time; with `never`, a row may have none (`patients.last_visit_at`), which sorts first.
    Time { never: bool },
}

/// One list order: the cursor scope, the sort column and its direction.
pub struct Keyset {
    pub scope: &'static str,
    /// The sort column in SQL (`p.name_folded`), and the name its value is selected under.
    pub column: &'static str,
    pub selected_as: &'static str,
    /// The id column in SQL (`p.id`), selected as `id`.
    pub id_column: &'static str,
    pub ascending: bool,
    pub kind: KeyKind,
}

/// The name a page statement selects the list's total under, when it selects it in each row
/// (PostgreSQL: one round trip fewer). A page without rows then counts on its own.
pub const TOTAL_COLUMN: &str = "total";

fn invalid_cursor() -> StoreError {
    StoreError::Invalid(vec![FieldError::new(
        "cursor",
        "is not a cursor of this list; start again without a cursor",
    )])
}

/// A row of a page with the sort key and id it was read at, for the next page's cursor.
struct Keyed<T> {
    item: T,
    key: String,
    id: Uuid,
    total: Option<i64>,
}

impl Keyset {
    /// Decodes where the page starts: the cursor (if any) and the offset of its first row.
    pub fn start(&self, start: &PageStart) -> StoreResult<(Option<Cursor>, u64)> {
        match start {
            PageStart::Offset(offset) => Ok((None, *offset)),
            PageStart::Cursor(text) => {
                let cursor =
                    Cursor::decode(text, self.scope).map_err(|e| StoreError::Invalid(vec![e]))?;
                // A key the database could not compare is refused here, not as a database error.
                self.key_value(&cursor.key, Dialect::Postgres)?;
                Uuid::parse_str(&cursor.id).map_err(|_| invalid_cursor())?;
                let offset = cursor.offset;
                Ok((Some(cursor), offset))
            }
        }
    }

    /// The cursor key as the value bound for the sort column, and the cast it needs.
    fn key_value(&self, key: &str, dialect: Dialect) -> StoreResult<(sql::Value, &'static str)> {
        match (self.kind, dialect) {
            (KeyKind::Text, _) if !key.contains('\0') => Ok((key.into(), "")),
            (KeyKind::Text, _) => Err(invalid_cursor()),
            (KeyKind::Time { never: true }, Dialect::Sqlite) if key.is_empty() => {
                Ok(("".into(), ""))
            }
            (KeyKind::Time { never: true }, Dialect::Postgres) if key.is_empty() => {
                Ok(("-infinity".into(), "::timestamptz"))
            }
            (KeyKind::Time { .. }, _) => parse_timestamp(key)
                .map(|at| (at.into(), ""))
                .ok_or_else(invalid_cursor),
        }
    }

    /// `AND (sort, id) > (key, id)` after the cursor's row (`<` when descending).
    pub fn push_after(
        &self,
        sql: &mut Statement,
        cursor: &Cursor,
        dialect: Dialect,
    ) -> StoreResult<()> {
        let compare = if self.ascending { ">" } else { "<" };
        let id = Uuid::parse_str(&cursor.id).map_err(|_| invalid_cursor())?;
        let (key, cast) = self.key_value(&cursor.key, dialect)?;
        sql.push(format!(
            " AND ({}, {}) {compare} (",
            self.column, self.id_column
        ))
        .bind(key)
        .push(cast)
        .push(", ")
        .bind(id)
        .push(")");
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
        sql.push(format!(
            " ORDER BY {} {order}, {} {order} LIMIT ",
            self.column, self.id_column
        ))
        .bind(i64::from(limit) + 1);
        if cursor.is_none() {
            sql.push(" OFFSET ")
                .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        }
    }

    /// The cursor key of a row: what the SQLite engine stores in the sort column.
    fn key_of(&self, row: &dyn Row) -> StoreResult<String> {
        match self.kind {
            KeyKind::Text => sql::text(row, self.selected_as),
            KeyKind::Time { .. } => Ok(sql::opt_time(row, self.selected_as)?
                .map(format_timestamp)
                .unwrap_or_default()),
        }
    }

    /// Reads the page `select` (built with `push_order_and_limit`), each row by `read`, and its
    /// total (from the rows' [`TOTAL_COLUMN`] when `total_in_rows`, else or for an empty page
    /// by `count`, whose one column is named `value`), on one connection; with its pagination.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_page<T: Send>(
        &self,
        conn: &mut impl Conn,
        select: &Statement,
        count: &Statement,
        total_in_rows: bool,
        limit: u32,
        offset: u64,
        mut read: impl FnMut(&dyn Row) -> StoreResult<T> + Send,
    ) -> StoreResult<Page<T>> {
        let mut found = conn
            .rows(select, |row| {
                Ok(Keyed {
                    item: read(row)?,
                    key: self.key_of(row)?,
                    id: sql::uuid(row, "id")?,
                    total: if total_in_rows {
                        sql::opt_int(row, TOTAL_COLUMN)?
                    } else {
                        None
                    },
                })
            })
            .await?;
        let total = match found.first().and_then(|row| row.total) {
            Some(total) => total,
            None => conn.scalar(count).await?.unwrap_or(0),
        };
        let has_more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next_cursor = match found.last() {
            Some(last) if has_more => Some(
                Cursor {
                    scope: self.scope.to_string(),
                    key: last.key.clone(),
                    id: last.id.to_string(),
                    offset: offset + found.len() as u64,
                }
                .encode(),
            ),
            _ => None,
        };
        let items: Vec<T> = found.into_iter().map(|row| row.item).collect();
        let mut pagination = offset_pagination(total, limit, offset, items.len());
        pagination.has_more = has_more;
        pagination.next_cursor = next_cursor;
        Ok(Page { items, pagination })
    }
}

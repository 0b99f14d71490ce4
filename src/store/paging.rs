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
        // Only the page's last row gives the next cursor, and only the first the total: the
        // others are read as items alone (formatting every row's key was a tenth of a list).
        let last = limit as usize;
        let mut index = 0usize;
        let mut total_in_first = None;
        let mut end_key = None;
        let mut items = conn
            .rows(select, |row| {
                index += 1;
                if index == 1 && total_in_rows {
                    total_in_first = sql::opt_int(row, TOTAL_COLUMN)?;
                }
                if index == last {
                    end_key = Some((self.key_of(row)?, sql::uuid(row, "id")?));
                }
                read(row)
            })
            .await?;
        let total = match total_in_first {
            Some(total) => total,
            None => conn.scalar(count).await?.unwrap_or(0),
        };
        let has_more = items.len() > last;
        items.truncate(last);
        let next_cursor = match end_key {
            Some((key, id)) if has_more => Some(
                Cursor {
                    scope: self.scope.to_string(),
                    key,
                    id: id.to_string(),
                    offset: offset + items.len() as u64,
                }
                .encode(),
            ),
            _ => None,
        };
        let mut pagination = offset_pagination(total, limit, offset, items.len());
        pagination.has_more = has_more;
        pagination.next_cursor = next_cursor;
        Ok(Page { items, pagination })
    }
}

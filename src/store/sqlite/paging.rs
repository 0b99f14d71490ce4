//! Keyset paging shared by the SQLite lists: where a page starts, the row-value comparison that
//! continues after the previous page, and the cursor for the next one.

use sqlx::QueryBuilder;
use sqlx::sqlite::{Sqlite, SqliteRow};

use super::rows;
use crate::store::cursor::Cursor;
use crate::store::{PageStart, StoreError, StoreResult};

/// One list order: the cursor scope, the sort column (as selected) and its direction.
pub(super) struct Keyset {
    pub scope: &'static str,
    /// The sort column in SQL (`p.name_folded`), and the name it is selected under.
    pub column: &'static str,
    pub selected_as: &'static str,
    /// The id column in SQL (`p.id`), selected as `id`.
    pub id_column: &'static str,
    pub ascending: bool,
}

impl Keyset {
    /// Decodes where the page starts: the cursor (if any) and the offset of its first row.
    pub fn start(&self, start: &PageStart) -> StoreResult<(Option<Cursor>, u64)> {
        match start {
            PageStart::Offset(offset) => Ok((None, *offset)),
            PageStart::Cursor(text) => {
                let cursor =
                    Cursor::decode(text, self.scope).map_err(|e| StoreError::Invalid(vec![e]))?;
                let offset = cursor.offset;
                Ok((Some(cursor), offset))
            }
        }
    }

    /// `AND (sort, id) > (key, id)` after the cursor's row.
    pub fn push_after(&self, sql: &mut QueryBuilder<Sqlite>, cursor: &Cursor) {
        let compare = if self.ascending { ">" } else { "<" };
        sql.push(format!(
            " AND ({}, {}) {compare} (",
            self.column, self.id_column
        ))
        .push_bind(cursor.key.clone())
        .push(", ")
        .push_bind(cursor.id.clone())
        .push(")");
    }

    /// `ORDER BY … LIMIT limit+1 [OFFSET …]`: one row more than asked shows whether more follow.
    pub fn push_order_and_limit(
        &self,
        sql: &mut QueryBuilder<Sqlite>,
        limit: u32,
        cursor: Option<&Cursor>,
        offset: u64,
    ) {
        let order = if self.ascending { "ASC" } else { "DESC" };
        sql.push(format!(
            " ORDER BY {} {order}, {} {order} LIMIT ",
            self.column, self.id_column
        ))
        .push_bind(i64::from(limit) + 1);
        if cursor.is_none() {
            sql.push(" OFFSET ").push_bind(offset as i64);
        }
    }

    /// Trims the extra row and makes the cursor of the next page.
    pub fn finish(
        &self,
        found: &mut Vec<SqliteRow>,
        limit: u32,
        offset: u64,
    ) -> StoreResult<(bool, Option<String>)> {
        let has_more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next = match found.last() {
            Some(last) if has_more => Some(
                Cursor {
                    scope: self.scope.to_string(),
                    key: rows::text(last, self.selected_as)?,
                    id: rows::text(last, "id")?,
                    offset: offset + found.len() as u64,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok((has_more, next))
    }
}

//! Keyset paging shared by the SQLite lists: where a page starts, the row-value comparison that
//! continues after the previous page, and the cursor for the next one.

use rusqlite::{Connection, Row};

use super::rows::{self, Columns};
use super::statement::Statement;
use crate::model::page::Page;
use crate::store::cursor::Cursor;
use crate::store::values::offset_pagination;
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

/// A row of a page with the sort key and id it was read at, for the next page's cursor.
pub(super) struct Keyed<T> {
    item: T,
    key: String,
    id: String,
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
    pub fn push_after(&self, sql: &mut Statement, cursor: &Cursor) {
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
        .push_bind(i64::from(limit) + 1);
        if cursor.is_none() {
            sql.push(" OFFSET ").push_bind(offset as i64);
        }
    }

    /// Reads the page `select` (built with `push_order_and_limit`), each row by `read`, and its
    /// total by `count`, on one read connection; with its pagination.
    pub fn read_page<T>(
        &self,
        conn: &Connection,
        select: &Statement,
        count: &Statement,
        limit: u32,
        offset: u64,
        mut read: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Page<T>> {
        let found = select.rows(conn, |row| self.keyed(row, read(row)?))?;
        let (items, has_more, next_cursor) = self.finish(found, limit, offset);
        let mut pagination = offset_pagination(count.scalar(conn)?, limit, offset, items.len());
        pagination.has_more = has_more;
        pagination.next_cursor = next_cursor;
        Ok(Page { items, pagination })
    }

    /// `item`, read from `row`, with the row's sort key and id.
    fn keyed<T>(&self, row: &(impl Columns + ?Sized), item: T) -> StoreResult<Keyed<T>> {
        Ok(Keyed {
            item,
            key: rows::text(row, self.selected_as)?,
            id: rows::text(row, "id")?,
        })
    }

    /// Trims the extra row and makes the cursor of the next page.
    fn finish<T>(
        &self,
        mut found: Vec<Keyed<T>>,
        limit: u32,
        offset: u64,
    ) -> (Vec<T>, bool, Option<String>) {
        let has_more = found.len() > limit as usize;
        found.truncate(limit as usize);
        let next = match found.last() {
            Some(last) if has_more => Some(
                Cursor {
                    scope: self.scope.to_string(),
                    key: last.key.clone(),
                    id: last.id.clone(),
                    offset: offset + found.len() as u64,
                }
                .encode(),
            ),
            _ => None,
        };
        (found.into_iter().map(|k| k.item).collect(), has_more, next)
    }
}

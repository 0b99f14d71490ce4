//! Where statements run: a connection of either engine, for reads or inside a write
//! transaction. The futures are `Send` so a flow written once over any `Conn` can be awaited
//! by the server; the SQLite read connections complete them without ever waiting (see
//! `sqlite::reader`).

use std::future::Future;

use super::{Dialect, Row, Statement};
use crate::store::StoreResult;

/// A connection (or transaction) statements run on.
pub trait Conn: Send {
    fn dialect(&self) -> Dialect;

    /// Every row, each read by `read`.
    fn rows<T, F>(
        &mut self,
        statement: &Statement,
        read: F,
    ) -> impl Future<Output = StoreResult<Vec<T>>> + Send
    where
        T: Send,
        F: FnMut(&dyn Row) -> StoreResult<T> + Send;

    /// The first row, if any, read by `read`.
    fn first<T, F>(
        &mut self,
        statement: &Statement,
        read: F,
    ) -> impl Future<Output = StoreResult<Option<T>>> + Send
    where
        T: Send,
        F: FnOnce(&dyn Row) -> StoreResult<T> + Send;

    /// Runs a statement that returns no rows; answers how many rows it changed.
    fn execute(&mut self, statement: &Statement) -> impl Future<Output = StoreResult<u64>> + Send;

    /// The integer in the first column of the first row (a count, a sum, an `EXISTS`); `None`
    /// when there is no row.
    fn scalar(
        &mut self,
        statement: &Statement,
    ) -> impl Future<Output = StoreResult<Option<i64>>> + Send {
        async move {
            Ok(self
                .first(statement, |row| row_first_int(row))
                .await?
                .flatten())
        }
    }
}

/// The first column must be named `value` for `scalar`: rows are read by name.
fn row_first_int(row: &dyn Row) -> StoreResult<Option<i64>> {
    row.opt_int("value")
}

/// A write transaction: statements, then commit or roll back. Dropped without either, it
/// rolls back.
pub trait WriteTx: Conn {
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;
    fn rollback(self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Marks that this transaction wrote live events (`store::events::record`), for an
    /// engine that wakes the event reader itself once the commit is done (SQLite). On
    /// PostgreSQL the transaction's `pg_notify` does that at commit.
    fn events_written(&mut self) {}
}

/// `Conn` for a write transaction that runs every statement on the connection it holds:
/// `conn_through!(Type, dialect, |tx| expression giving &mut connection)`.
macro_rules! conn_through {
    ($wrapper:ty, $dialect:expr, |$this:ident| $inner:expr) => {
        impl $crate::store::sql::Conn for $wrapper {
            fn dialect(&self) -> $crate::store::sql::Dialect {
                $dialect
            }

            fn rows<T, F>(
                &mut self,
                statement: &$crate::store::sql::Statement,
                read: F,
            ) -> impl ::std::future::Future<Output = $crate::store::StoreResult<Vec<T>>> + Send
            where
                T: Send,
                F: FnMut(&dyn $crate::store::sql::Row) -> $crate::store::StoreResult<T> + Send,
            {
                let $this = self;
                $inner.rows(statement, read)
            }

            fn first<T, F>(
                &mut self,
                statement: &$crate::store::sql::Statement,
                read: F,
            ) -> impl ::std::future::Future<Output = $crate::store::StoreResult<Option<T>>> + Send
            where
                T: Send,
                F: FnOnce(&dyn $crate::store::sql::Row) -> $crate::store::StoreResult<T> + Send,
            {
                let $this = self;
                $inner.first(statement, read)
            }

            fn execute(
                &mut self,
                statement: &$crate::store::sql::Statement,
            ) -> impl ::std::future::Future<Output = $crate::store::StoreResult<u64>> + Send {
                let $this = self;
                $inner.execute(statement)
            }
        }
    };
}

pub(crate) use conn_through;

//! The query layer both engines share: SQL written once as a [`Statement`] with its bound
//! [`Value`]s, rows read through the [`Row`] trait, and statements run on any [`Conn`]ection
//! (an engine's read connection or its write transaction). What truly differs between the
//! engines is asked of the [`Dialect`]: how a value is bound and read back, how a row is locked,
//! how "never" is stored.

mod conn;
mod dialect;
mod row;
mod statement;

pub(crate) use conn::conn_through;
pub use conn::{Conn, WriteTx};
pub use dialect::Dialect;
pub use row::*;
pub use statement::{Statement, Value};

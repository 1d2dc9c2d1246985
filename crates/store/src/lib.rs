//! Castellan's storage: an event store plus synchronous read models, on SQLite (embedded
//! default) and PostgreSQL (production), through one connection trait and one set of SQL.
#![deny(clippy::unwrap_used)]

pub mod assets;
pub mod conn;
pub mod db;
pub mod migrate;
pub mod pg;
pub mod projection;
pub mod rebuild;
pub mod sqlite;
pub mod tx;
pub mod value;

pub use conn::{Conn, DbError, Dialect};
pub use db::{Db, Target};
pub use tx::{Author, Event, Tx};
pub use value::{Row, Value};

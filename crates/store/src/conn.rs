//! The one connection trait both drivers implement. SQL is written once, with `?`
//! placeholders; the PostgreSQL driver renumbers them to `$n`.

use crate::value::{Row, Value};
use castellan_domain::{Error, Kind};

/// Which SQL dialect a connection speaks (only DDL and a few functions differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Refuses text parameters with a NUL character: PostgreSQL cannot store one (it would answer
/// with an error), and SQLite, which can, must not keep what PostgreSQL could not take back.
pub(crate) fn check_params(params: &[Value]) -> Result<(), DbError> {
    for p in params {
        if let Value::Text(t) = p {
            if t.contains('\0') {
                return Err(DbError::Invalid(
                    "text must not contain NUL characters".to_string(),
                ));
            }
        }
    }
    Ok(())
}

/// A database error, classified so that callers can map constraint violations.
#[derive(Debug, Clone)]
pub enum DbError {
    /// A unique constraint was violated; holds the constraint or index text.
    Unique(String),
    /// A concurrent transaction changed what this one read (serialization failure, deadlock):
    /// the command is retried in a new transaction.
    Conflict(String),
    /// The connection is unusable (network, closed, I/O).
    Connection(String),
    /// A parameter no database can hold (text with a NUL character), refused before it is
    /// sent: a PostgreSQL error would also abort the transaction around it.
    Invalid(String),
    /// Any other error.
    Other(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unique(s) => write!(f, "unique violation: {s}"),
            DbError::Conflict(s) => write!(f, "conflict: {s}"),
            DbError::Connection(s) => write!(f, "connection: {s}"),
            DbError::Invalid(s) => write!(f, "invalid parameter: {s}"),
            DbError::Other(s) => write!(f, "{s}"),
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Conflict(_) => Error::new(
                Kind::Aborted,
                "STORE-c0nfl",
                "Errors.Concurrent.Modification",
            ),
            DbError::Unique(c) if c.contains("events") => Error::new(
                Kind::Aborted,
                "STORE-c0nfl",
                "Errors.Concurrent.Modification",
            ),
            DbError::Unique(c) => Error::new(
                Kind::AlreadyExists,
                "STORE-uN1q3",
                "Errors.Invalid.Argument",
            )
            .with(format!("already exists ({c})")),
            DbError::Connection(m) => {
                Error::new(Kind::Unavailable, "STORE-c0nn1", "Errors.Unavailable").with(m)
            }
            DbError::Invalid(m) => Error::new(
                Kind::InvalidArgument,
                "STORE-nu11c",
                "Errors.Invalid.Argument",
            )
            .with(m),
            DbError::Other(m) => Error::internal("STORE-sq1Er", m),
        }
    }
}

/// A database connection (or transaction on one).
pub trait Conn: Send {
    fn dialect(&self) -> Dialect;
    /// Runs a statement and returns its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs a statement and returns the number of affected rows.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Runs several statements without parameters (DDL, transaction control).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
}

impl dyn Conn + '_ {
    /// The first row, if any.
    pub fn one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// A single integer (e.g. `COUNT(*)`), 0 when there is no row.
    pub fn scalar(&mut self, sql: &str, params: &[Value]) -> Result<i64, Error> {
        match self.one(sql, params)? {
            Some(r) => r.int(0),
            None => Ok(0),
        }
    }
}

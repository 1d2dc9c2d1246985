//! The SQLite driver (rusqlite, bundled SQLite, WAL, fsync on every commit).

use crate::conn::{check_params, Conn, DbError, Dialect};
use crate::value::{Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// A SQLite connection.
///
/// Statements are planned once, whatever values are bound later (the query planner
/// stability guarantee, `SQLITE_DBCONFIG_ENABLE_QPSG`): without it SQLite re-prepares a
/// statement on every new binding when a bound value might change its plan, which it
/// assumes for aggregates such as the event insert's `MAX(seq)` and for comparisons with
/// the predicate of a partial index (`apps.client_id <> ''`). Only `LIKE` needs the bound
/// value (its prefix becomes an index range), so a reader sends statements with `LIKE` to a
/// second connection without the guarantee, opened when first needed. The writer keeps one
/// connection (one transaction); its statements with `LIKE` cannot use an index either way.
pub struct Sqlite {
    conn: Connection,
    /// Readers: the connection for statements with `LIKE`, and where to open it.
    like: Option<Connection>,
    path: Option<std::path::PathBuf>,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

fn map_err(e: rusqlite::Error) -> DbError {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            DbError::Unique(msg.clone().unwrap_or_else(|| e.to_string()))
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::DiskFull
            ) =>
        {
            DbError::Connection(e.to_string())
        }
        _ => DbError::Other(e.to_string()),
    }
}

impl Sqlite {
    /// Opens `path` (created if missing) for reading and writing.
    pub fn open(path: &Path, writer: bool) -> Result<Self, DbError> {
        let conn = Self::connect(path, writer, true)?;
        Ok(Sqlite {
            conn,
            like: None,
            path: (!writer).then(|| path.to_path_buf()),
        })
    }

    /// One connection; `stable`: plans do not depend on bound values.
    fn connect(path: &Path, writer: bool, stable: bool) -> Result<Connection, DbError> {
        let flags = if writer {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(map_err)?;
        let pragmas = if writer {
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA case_sensitive_like=ON; PRAGMA foreign_keys=OFF;"
        } else {
            "PRAGMA case_sensitive_like=ON; PRAGMA query_only=ON;"
        };
        conn.execute_batch(pragmas).map_err(map_err)?;
        if stable {
            conn.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )
            .map_err(map_err)?;
        }
        conn.set_prepared_statement_cache_capacity(256);
        Ok(conn)
    }

    /// The connection for `sql`: a reader's statements with `LIKE` go to its second one.
    fn conn_for(&mut self, sql: &str) -> Result<&Connection, DbError> {
        let Some(path) = self.path.as_deref().filter(|_| sql.contains("LIKE")) else {
            return Ok(&self.conn);
        };
        let like = match self.like.take() {
            Some(c) => c,
            None => Self::connect(path, false, false)?,
        };
        Ok(self.like.insert(like))
    }
}

impl Conn for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        check_params(params)?;
        let mut stmt = self.conn_for(sql)?.prepare_cached(sql).map_err(map_err)?;
        let n = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(map_err)? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(match r.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        check_params(params)?;
        let mut stmt = self.conn_for(sql)?.prepare_cached(sql).map_err(map_err)?;
        stmt.execute(rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(map_err)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("castellan-{name}-{}.db", std::process::id()));
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", p.display()));
        }
        p
    }

    const SCHEMA: &str =
        "CREATE TABLE ev (a TEXT NOT NULL, b TEXT NOT NULL, seq BIGINT NOT NULL); \
        CREATE UNIQUE INDEX ev_key ON ev (a, b, seq); \
        CREATE TABLE names (name TEXT NOT NULL); \
        CREATE INDEX names_name ON names (name);";

    #[test]
    fn statements_are_not_prepared_again_for_new_values() {
        let path = temp_db("qpsg");
        let mut w = Sqlite::open(&path, true).expect("open");
        w.batch(SCHEMA).expect("schema");
        let sql = "INSERT INTO ev (a, b, seq) SELECT ?, ?, COALESCE(MAX(seq), 0) + 1 FROM ev WHERE a = ? AND b = ? RETURNING seq";
        for i in 0..20 {
            let b = format!("b{i}");
            w.batch("BEGIN IMMEDIATE").expect("begin");
            let p = [
                Value::from("a"),
                Value::from(b.as_str()),
                Value::from("a"),
                Value::from(b.as_str()),
            ];
            assert_eq!(w.query(sql, &p).expect("insert")[0].int(0).expect("seq"), 1);
            w.batch("COMMIT").expect("commit");
        }
        let stmt = w.conn.prepare_cached(sql).expect("cached");
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[test]
    fn like_prefix_searches_keep_their_index_on_readers() {
        let path = temp_db("like");
        let mut w = Sqlite::open(&path, true).expect("open");
        w.batch(SCHEMA).expect("schema");
        let mut r = Sqlite::open(&path, false).expect("reader");
        let sql = "EXPLAIN QUERY PLAN SELECT name FROM names WHERE name LIKE ?";
        let plan = |rows: Vec<Row>| {
            rows.iter()
                .map(|r| r.text(3).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let reader = plan(r.query(sql, &[Value::from("user1%")]).expect("plan"));
        assert!(reader.contains("INDEX names_name"), "{reader}");
        // The writer's connection plans without the bound value: no index for LIKE there.
        let writer = plan(w.query(sql, &[Value::from("user1%")]).expect("plan"));
        assert!(!writer.contains("INDEX names_name"), "{writer}");
    }
}

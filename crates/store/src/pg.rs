//! The PostgreSQL driver (the synchronous `postgres` client, used on blocking threads).

use crate::conn::{check_params, Conn, DbError, Dialect};
use crate::value::{Row, Value};
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;

/// A PostgreSQL connection with a prepared-statement cache.
///
/// Statements run as named prepared statements, parsed once per connection. The session keeps
/// the server's `plan_cache_mode` (`auto`): after five executions PostgreSQL may switch a
/// statement to a generic plan, made once without the parameter values, when its estimated
/// cost is no higher than the custom plans' average plus their planning. Two cases need more:
/// - a generic plan is costed with the table's size when it is made: one made while a table was
///   nearly empty keeps scanning it as it grows (or walks another index by its first column:
///   on a fresh database the code redemption's plan filtered every request of the instance
///   through the session index for its first ~900 logins). A statement is therefore prepared
///   afresh after [`FIRST_PLAN_RUNS`] executions, then after twice as many each time up to
///   every [`RUNS_PER_PLAN`], and PostgreSQL decides again with the current size;
/// - a generic plan cannot use the `text_pattern_ops` indexes for `LIKE 'prefix%'`, and one
///   statement serves prefix and contains searches (`'%part%'`, a sequential scan anyway), so
///   after a few contains searches the generic sequential scan would serve every later prefix
///   search too. Statements with `LIKE` therefore run as unnamed statements (parse, bind and
///   execute in one round trip, planned with their values each time), with the parameter
///   types their named statement reported when it was prepared; the named one is never
///   executed.
pub struct Pg {
    client: Client,
    stmts: HashMap<String, Prepared>,
}

/// A cached statement; `custom` holds the renumbered SQL of one that must be planned with its
/// values (it contains `LIKE`; our SQL writes keywords in capitals).
#[derive(Clone)]
struct Prepared {
    stmt: Statement,
    custom: Option<std::sync::Arc<str>>,
    /// Executions of this plan so far.
    runs: u32,
    /// Executions after which the statement is prepared afresh.
    replan_at: u32,
}

/// Executions of a statement's first plan before it is made again.
pub const FIRST_PLAN_RUNS: u32 = 32;
/// The most executions of one plan of a statement before it is made again.
pub const RUNS_PER_PLAN: u32 = 512;

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes_buf::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => (*i as i16).to_sql(ty, out),
                Type::INT4 => (*i as i32).to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Blob(b) => b.as_slice().to_sql(ty, out),
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

mod bytes_buf {
    pub use postgres::types::private::BytesMut;
}

/// Rewrites `?` placeholders to `$1, $2, ...` (outside quoted strings).
pub fn renumber(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut in_str = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_str = !in_str;
                out.push(c);
            }
            '?' if !in_str => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

fn map_err(e: postgres::Error) -> DbError {
    if let Some(db) = e.as_db_error() {
        if db.code() == &postgres::error::SqlState::UNIQUE_VIOLATION {
            return DbError::Unique(format!(
                "{} {}",
                db.constraint().unwrap_or(""),
                db.table().unwrap_or("")
            ));
        }
        let code = db.code();
        if code == &postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
            || code == &postgres::error::SqlState::T_R_DEADLOCK_DETECTED
        {
            return DbError::Conflict(db.message().to_string());
        }
        return DbError::Other(format!("{}: {}", code.code(), db.message()));
    }
    if e.is_closed() {
        return DbError::Connection(e.to_string());
    }
    DbError::Connection(e.to_string())
}

impl Pg {
    /// Connects to `url` (`postgres://user:pass@host:port/db`).
    pub fn connect(url: &str) -> Result<Self, DbError> {
        let client = Client::connect(url, NoTls).map_err(map_err)?;
        Ok(Pg {
            client,
            stmts: HashMap::new(),
        })
    }

    /// Whether the connection is closed and must be replaced.
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    fn stmt(&mut self, sql: &str) -> Result<Prepared, DbError> {
        let mut replan_at = FIRST_PLAN_RUNS;
        if let Some(s) = self.stmts.get_mut(sql) {
            s.runs += 1;
            if s.runs <= s.replan_at || s.custom.is_some() {
                return Ok(s.clone());
            }
            replan_at = (s.replan_at * 2).min(RUNS_PER_PLAN);
        }
        let text = renumber(sql);
        let p = Prepared {
            stmt: self.client.prepare(&text).map_err(map_err)?,
            custom: sql.contains("LIKE").then(|| text.into()),
            runs: 1,
            replan_at,
        };
        if self.stmts.len() > 512 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_string(), p.clone());
        Ok(p)
    }

    /// Access to the raw client (LISTEN/NOTIFY).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// `params` with the types of `st`'s parameters, for an unnamed statement of the same SQL.
fn typed<'a>(
    st: &Statement,
    params: &'a [Value],
) -> Result<Vec<(&'a (dyn ToSql + Sync), Type)>, DbError> {
    if params.len() != st.params().len() {
        return Err(DbError::Other(format!(
            "expected {} parameters, got {}",
            st.params().len(),
            params.len()
        )));
    }
    Ok(params
        .iter()
        .zip(st.params())
        .map(|(p, t)| (p as &(dyn ToSql + Sync), t.clone()))
        .collect())
}

impl Conn for Pg {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        check_params(params)?;
        let p = self.stmt(sql)?;
        let rows = match &p.custom {
            None => self.client.query(&p.stmt, &refs(params)),
            Some(text) => self.client.query_typed(text, &typed(&p.stmt, params)?),
        }
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let v = match *col.type_() {
                    Type::INT8 => r
                        .try_get::<_, Option<i64>>(i)
                        .map(|v| v.map_or(Value::Null, Value::Int)),
                    Type::INT4 => r
                        .try_get::<_, Option<i32>>(i)
                        .map(|v| v.map_or(Value::Null, |v| Value::Int(v.into()))),
                    Type::INT2 => r
                        .try_get::<_, Option<i16>>(i)
                        .map(|v| v.map_or(Value::Null, |v| Value::Int(v.into()))),
                    Type::BOOL => r
                        .try_get::<_, Option<bool>>(i)
                        .map(|v| v.map_or(Value::Null, |v| Value::Int(v.into()))),
                    Type::BYTEA => r
                        .try_get::<_, Option<Vec<u8>>>(i)
                        .map(|v| v.map_or(Value::Null, Value::Blob)),
                    _ => r
                        .try_get::<_, Option<String>>(i)
                        .map(|v| v.map_or(Value::Null, Value::Text)),
                }
                .map_err(map_err)?;
                vals.push(v);
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        check_params(params)?;
        let p = self.stmt(sql)?;
        match &p.custom {
            None => self.client.execute(&p.stmt, &refs(params)),
            Some(text) => self.client.execute_typed(text, &typed(&p.stmt, params)?),
        }
        .map_err(map_err)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn renumbers_outside_strings() {
        assert_eq!(
            super::renumber("a = ? AND b LIKE '?%' AND c = ?"),
            "a = $1 AND b LIKE '?%' AND c = $2"
        );
    }
}

//! Building list queries: paging (with the configured maximum), sorting and text filters with
//! ZITADEL's text query methods, as SQL written once for both databases.

use crate::error::{ApiErr, R};
use castellan_domain::{Error, Kind};
use castellan_proto::zitadel::v1::ListQuery;
use castellan_store::{Conn, Row, Value};

/// A WHERE clause under construction.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub sql: Vec<String>,
    pub params: Vec<Value>,
}

impl Filter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `cond` with its parameters (AND).
    pub fn and(&mut self, cond: impl Into<String>, params: Vec<Value>) -> &mut Self {
        self.sql.push(cond.into());
        self.params.extend(params);
        self
    }

    /// The conditions joined with AND (or `1=1`).
    pub fn clause(&self) -> String {
        if self.sql.is_empty() {
            "1=1".into()
        } else {
            self.sql.join(" AND ")
        }
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The SQL condition and parameter of a text query on `col` with a `TextQueryMethod` number.
pub fn text(col: &str, method: i32, value: &str) -> R<(String, Value)> {
    let v = value.to_string();
    let e = escape_like(value);
    Ok(match method {
        0 => (format!("{col} = ?"), v.into()),
        1 => (format!("lower({col}) = lower(?)"), v.into()),
        2 => (format!("{col} LIKE ? ESCAPE '\\'"), format!("{e}%").into()),
        3 => (
            format!("lower({col}) LIKE lower(?) ESCAPE '\\'"),
            format!("{e}%").into(),
        ),
        4 => (format!("{col} LIKE ? ESCAPE '\\'"), format!("%{e}%").into()),
        5 => (
            format!("lower({col}) LIKE lower(?) ESCAPE '\\'"),
            format!("%{e}%").into(),
        ),
        6 => (format!("{col} LIKE ? ESCAPE '\\'"), format!("%{e}").into()),
        7 => (
            format!("lower({col}) LIKE lower(?) ESCAPE '\\'"),
            format!("%{e}").into(),
        ),
        _ => {
            return Err(crate::error::invalid(format!(
                "unknown text query method {method}"
            )))
        }
    })
}

/// `IN (?, ?, ...)` for a list of values (an always-false condition for an empty list).
pub fn in_list(col: &str, values: &[String]) -> (String, Vec<Value>) {
    if values.is_empty() {
        return ("1=0".into(), Vec::new());
    }
    let marks = vec!["?"; values.len()].join(", ");
    (
        format!("{col} IN ({marks})"),
        values.iter().map(Value::from).collect(),
    )
}

/// Paging of a list request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
    pub asc: bool,
}

impl Page {
    /// Reads `ListQuery`, applying the default limit and rejecting limits above the maximum.
    pub fn of(q: Option<&ListQuery>, default_limit: u64, max_limit: u64) -> R<Page> {
        let (offset, limit, asc) =
            q.map_or((0, 0, false), |q| (q.offset, u64::from(q.limit), q.asc));
        if limit > max_limit {
            return Err(ApiErr(
                Error::new(
                    Kind::InvalidArgument,
                    "QUERY-4M0fs",
                    "Errors.Query.LimitExceeded",
                )
                .with(format!("limit must be at most {max_limit}")),
            ));
        }
        let limit = if limit == 0 { default_limit } else { limit };
        Ok(Page {
            offset: offset.min(i64::MAX as u64) as i64,
            limit: limit as i64,
            asc,
        })
    }

    /// `ORDER BY ... LIMIT ... OFFSET ...` on `col` (ties broken by `tiebreak`).
    pub fn tail(&self, col: &str, tiebreak: &str) -> String {
        let dir = if self.asc { "ASC" } else { "DESC" };
        format!(
            " ORDER BY {col} {dir}, {tiebreak} {dir} LIMIT {} OFFSET {}",
            self.limit, self.offset
        )
    }
}

/// One page of a list in one round trip: the rows (`cols` first, in order), the total of
/// matching rows (a window count) and the newest event position. Returns (total, position,
/// rows).
pub fn page_rows(
    c: &mut dyn Conn,
    cols: &str,
    from: &str,
    f: &Filter,
    tail: &str,
) -> castellan_domain::Result<(i64, i64, Vec<Row>)> {
    let clause = f.clause();
    let rows = c.query(
        &format!("SELECT {cols}, COUNT(*) OVER (), (SELECT COALESCE(MAX(position), 0) FROM events) FROM {from} WHERE {clause}{tail}"),
        &f.params,
    )?;
    let n = rows.first().map(|r| r.0.len());
    match (rows.first(), n) {
        (Some(r), Some(n)) if n >= 2 => Ok((r.int(n - 2)?, r.int(n - 1)?, rows)),
        _ => {
            // Past the last page: count separately.
            let total = c.scalar(
                &format!("SELECT COUNT(*) FROM {from} WHERE {clause}"),
                &f.params,
            )?;
            let pos = c.scalar("SELECT COALESCE(MAX(position), 0) FROM events", &[])?;
            Ok((total, pos, Vec::new()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_is_escaped() {
        let (sql, v) = text("username", 2, "a_b%").expect("ok");
        assert_eq!(sql, "username LIKE ? ESCAPE '\\'");
        assert_eq!(v, Value::Text("a\\_b\\%%".into()));
        assert!(text("x", 99, "a").is_err());
    }

    #[test]
    fn limits() {
        let q = ListQuery {
            offset: 0,
            limit: 1001,
            asc: true,
        };
        assert!(Page::of(Some(&q), 100, 1000).is_err());
        assert_eq!(Page::of(None, 100, 1000).expect("ok").limit, 100);
    }
}

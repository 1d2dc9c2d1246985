//! Driver-neutral SQL values and rows.

use castellan_domain::{Error, Result};

/// A SQL parameter or column value. Booleans are stored as integers 0/1 on both databases.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row, columns in select order.
#[derive(Debug, Clone, Default)]
pub struct Row(pub Vec<Value>);

fn col_err(i: usize, want: &str) -> Error {
    Error::internal("STORE-c0lTy", format!("column {i} is not {want}"))
}

impl Row {
    pub fn int(&self, i: usize) -> Result<i64> {
        match self.0.get(i) {
            Some(Value::Int(v)) => Ok(*v),
            Some(Value::Null) => Ok(0),
            _ => Err(col_err(i, "an integer")),
        }
    }
    pub fn bool(&self, i: usize) -> Result<bool> {
        Ok(self.int(i)? != 0)
    }
    pub fn text(&self, i: usize) -> Result<String> {
        match self.0.get(i) {
            Some(Value::Text(v)) => Ok(v.clone()),
            Some(Value::Null) => Ok(String::new()),
            _ => Err(col_err(i, "text")),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.0.get(i) {
            Some(Value::Null) => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn blob(&self, i: usize) -> Result<Vec<u8>> {
        match self.0.get(i) {
            Some(Value::Blob(v)) => Ok(v.clone()),
            Some(Value::Text(v)) => Ok(v.as_bytes().to_vec()),
            Some(Value::Null) => Ok(Vec::new()),
            _ => Err(col_err(i, "a blob")),
        }
    }
}

/// Shorthand for building parameter lists: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    () => { Vec::<$crate::Value>::new() };
    ($($v:expr),+ $(,)?) => { ::std::vec::Vec::<$crate::Value>::from([$($crate::Value::from($v)),+]) };
}

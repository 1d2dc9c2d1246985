//! Typed errors with stable ids and i18n message keys.
//!
//! Every error carries a kind (mapped to a gRPC code and an HTTP status in one place, the api
//! crate), a stable id such as `USER-4a7Fd` for log correlation, a message key such as
//! `Errors.User.NotFound` and an optional detail naming the offending field or rule.

use std::borrow::Cow;

/// The class of an error; decides the gRPC code and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    Unauthenticated,
    FailedPrecondition,
    Aborted,
    ResourceExhausted,
    Unimplemented,
    Unavailable,
    Internal,
}

/// A domain error: kind, stable id, message key and optional detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub id: &'static str,
    pub key: &'static str,
    pub detail: Option<Cow<'static, str>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub const fn new(kind: Kind, id: &'static str, key: &'static str) -> Self {
        Error {
            kind,
            id,
            key,
            detail: None,
        }
    }
    /// Adds a detail (e.g. the field name and rule) to the message.
    pub fn with(mut self, detail: impl Into<Cow<'static, str>>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn invalid(
        id: &'static str,
        key: &'static str,
        detail: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(Kind::InvalidArgument, id, key).with(detail)
    }
    pub fn not_found(id: &'static str, key: &'static str) -> Self {
        Self::new(Kind::NotFound, id, key)
    }
    pub fn exists(id: &'static str, key: &'static str) -> Self {
        Self::new(Kind::AlreadyExists, id, key)
    }
    pub fn precondition(id: &'static str, key: &'static str) -> Self {
        Self::new(Kind::FailedPrecondition, id, key)
    }
    pub fn internal(id: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Kind::Internal, id, "Errors.Internal").with(detail)
    }
    pub fn denied() -> Self {
        Self::new(
            Kind::PermissionDenied,
            "AUTHZ-HKJD33",
            "Errors.Token.Permission.Denied",
        )
    }
    pub fn unauthenticated(id: &'static str) -> Self {
        Self::new(Kind::Unauthenticated, id, "Errors.Token.Invalid")
    }

    /// English text of the message key, followed by the detail if any.
    pub fn text(&self) -> String {
        let base = crate::i18n::english(self.key);
        match &self.detail {
            Some(d) => format!("{base}: {d}"),
            None => base.to_string(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.text(), self.id)
    }
}

impl std::error::Error for Error {}

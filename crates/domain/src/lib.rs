//! Castellan's identity model: ids, typed errors, events, validation, passwords, roles and
//! permissions. Pure logic; no I/O.
#![deny(clippy::unwrap_used)]

pub mod access_token;
pub mod assets;
pub mod crypto;
pub mod duration;
pub mod error;
pub mod events;
pub mod i18n;
pub mod id;
pub mod jws;
pub mod jwt;
pub mod oidc_app;
pub mod oidc_settings;
pub mod password;
pub mod policy;
pub mod roles;
pub mod saml_metadata;
pub mod secret_generator;
pub mod security_policy;
pub mod validate;

pub use error::{Error, Kind, Result};

//! Application services: each operation validates its input, runs one command (a transaction
//! that checks the read models, pushes events and updates the read models) or one query, and
//! returns domain results. Handlers map them to and from messages.

pub mod apps;
pub mod assets;
pub mod claims_data;
pub mod domain_check;
pub mod events;
pub mod export;
pub mod fetch;
pub mod grants;
pub mod import;
pub mod instance;
pub mod instances;
pub mod label;
pub mod me;
pub mod members;
pub mod metadata;
pub mod my_sessions;
pub mod oidc_settings;
pub mod org_domain_validation;
pub mod orgs;
pub mod policies;
pub mod projects;
pub mod query;
pub mod secret_generators;
pub mod security_policy;
pub mod setup;
pub mod smtp;
pub mod tokens;
pub mod user_grants;
pub mod users;

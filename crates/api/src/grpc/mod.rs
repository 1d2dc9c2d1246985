//! The gRPC service implementations: one thin handler per RPC (context → application service →
//! message). REST and gRPC-Web reach the same handlers.

pub mod admin;
pub mod auth;
pub mod management;
pub mod policies;
pub mod system;

use crate::app::query::Page;
use crate::ctx::{self, Ctx};
use crate::error::R;
use crate::state::St;
use castellan_proto::zitadel::v1::ListQuery;
use tonic::{Request, Response, Status};

/// The state every service holds.
#[derive(Clone)]
pub struct Svc {
    pub st: St,
}

/// Result type of handlers.
pub type Res<T> = Result<Response<T>, Status>;

/// Splits a request into its context and message.
pub fn split<T>(req: Request<T>) -> Result<(Ctx, T), Status> {
    let c = ctx::of(&req)?;
    Ok((c, req.into_inner()))
}

pub fn ok<T>(t: T) -> Res<T> {
    Ok(Response::new(t))
}

impl Svc {
    /// Paging of a list request with the configured limits.
    pub fn page(&self, q: Option<&ListQuery>) -> R<Page> {
        Page::of(
            q,
            self.st.cfg.default_query_limit,
            self.st.cfg.max_query_limit,
        )
    }
}

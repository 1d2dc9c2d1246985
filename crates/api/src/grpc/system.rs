//! `zitadel.system.v1.SystemService`: all instances (system users; grows with the instance API).

use super::{ok, Res, Svc};
use castellan_proto::zitadel::system::v1::{system_service_server::SystemService, *};
use tonic::Request;

#[tonic::async_trait]
impl SystemService for Svc {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Res<HealthzResponse> {
        ok(HealthzResponse {})
    }
}

//! `zitadel.auth.v1.AuthService`: the calling user.

use super::{ok, split, Res, Svc};
use crate::app::{events, instance, members, metadata, user_grants, users};
use crate::convert::{details, list_details, ts};
use castellan_domain::events::agg;
use castellan_proto::zitadel::auth::v1::{auth_service_server::AuthService, *};
use tonic::Request;

#[tonic::async_trait]
impl AuthService for Svc {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Res<HealthzResponse> {
        ok(HealthzResponse {})
    }

    async fn get_supported_languages(
        &self,
        _: Request<GetSupportedLanguagesRequest>,
    ) -> Res<GetSupportedLanguagesResponse> {
        ok(GetSupportedLanguagesResponse {
            languages: instance::SUPPORTED_LANGUAGES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        })
    }

    async fn get_my_user(&self, req: Request<GetMyUserRequest>) -> Res<GetMyUserResponse> {
        let (ctx, _) = split(req)?;
        let u = users::get_any(&self.st, &ctx.instance_id, &ctx.caller()?.user_id).await?;
        ok(GetMyUserResponse {
            user: Some(u.to_pb()),
            last_login: ts(0),
        })
    }

    async fn list_my_user_changes(
        &self,
        req: Request<ListMyUserChangesRequest>,
    ) -> Res<ListMyUserChangesResponse> {
        let (ctx, r) = split(req)?;
        let result = events::changes(
            &self.st,
            &ctx,
            agg::USER,
            &ctx.caller()?.user_id,
            r.query.as_ref(),
        )
        .await?;
        ok(ListMyUserChangesResponse { result })
    }

    async fn list_my_metadata(
        &self,
        req: Request<ListMyMetadataRequest>,
    ) -> Res<ListMyMetadataResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let me = ctx.caller()?.user_id.clone();
        let (total, pos, result) =
            metadata::list(&self.st, &ctx, metadata::Owner::User, &me, page, &r.queries).await?;
        ok(ListMyMetadataResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn get_my_metadata(
        &self,
        req: Request<GetMyMetadataRequest>,
    ) -> Res<GetMyMetadataResponse> {
        let (ctx, r) = split(req)?;
        let me = ctx.caller()?.user_id.clone();
        let m = metadata::get(&self.st, &ctx, metadata::Owner::User, &me, &r.key).await?;
        ok(GetMyMetadataResponse { metadata: Some(m) })
    }

    async fn list_my_zitadel_permissions(
        &self,
        req: Request<ListMyZitadelPermissionsRequest>,
    ) -> Res<ListMyZitadelPermissionsResponse> {
        let (ctx, _) = split(req)?;
        let p = ctx.caller()?;
        ok(ListMyZitadelPermissionsResponse {
            result: p.permissions_in(&ctx.org_id),
        })
    }

    async fn list_my_memberships(
        &self,
        req: Request<ListMyMembershipsRequest>,
    ) -> Res<ListMyMembershipsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let me = ctx.caller()?.user_id.clone();
        let (total, pos, result) =
            members::memberships(&self.st, &ctx, &me, page, &r.queries).await?;
        ok(ListMyMembershipsResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn list_my_user_grants(
        &self,
        req: Request<ListMyUserGrantsRequest>,
    ) -> Res<ListMyUserGrantsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) = user_grants::list_mine(&self.st, &ctx, page).await?;
        ok(ListMyUserGrantsResponse {
            details: list_details(total, pos),
            result: rows
                .into_iter()
                .map(|g| UserGrant {
                    details: details(g.seq, g.created_at, g.changed_at, &g.org_id),
                    org_id: g.org_id,
                    project_id: g.project_id,
                    user_id: g.user_id,
                    roles: g.role_keys.clone(),
                    org_name: g.org_name,
                    grant_id: g.id,
                    org_domain: g.org_domain,
                    project_name: g.project_name,
                    project_grant_id: g.project_grant_id,
                    role_keys: g.role_keys,
                })
                .collect(),
        })
    }
}

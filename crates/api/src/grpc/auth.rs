//! `zitadel.auth.v1.AuthService`: the calling user.

use super::policies as conv;
use super::{ok, split, Res, Svc};
use crate::app::policies as pol;
use crate::app::{assets, events, instance, me, members, metadata, user_grants, users};
use crate::convert::{details, list_details, ts};
use castellan_domain::events::{agg, Profile};
use castellan_domain::password::Complexity;
use castellan_domain::policy::{Login, Privacy};
use castellan_proto::zitadel::auth::v1::{auth_service_server::AuthService, *};
use castellan_proto::zitadel::user::v1 as upb;
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

    async fn list_my_user_sessions(
        &self,
        req: Request<ListMyUserSessionsRequest>,
    ) -> Res<ListMyUserSessionsResponse> {
        let (ctx, _) = split(req)?;
        let result = crate::app::my_sessions::list(&self.st, &ctx).await?;
        ok(ListMyUserSessionsResponse { result })
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
    async fn remove_my_user(&self, req: Request<RemoveMyUserRequest>) -> Res<RemoveMyUserResponse> {
        let (ctx, _) = split(req)?;
        ok(RemoveMyUserResponse {
            details: Some(me::remove(&self.st, &ctx).await?),
        })
    }

    async fn update_my_user_name(
        &self,
        req: Request<UpdateMyUserNameRequest>,
    ) -> Res<UpdateMyUserNameResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateMyUserNameResponse {
            details: Some(me::update_username(&self.st, &ctx, &r.user_name).await?),
        })
    }

    async fn get_my_password_complexity_policy(
        &self,
        req: Request<GetMyPasswordComplexityPolicyRequest>,
    ) -> Res<GetMyPasswordComplexityPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(GetMyPasswordComplexityPolicyResponse {
            policy: Some(conv::complexity(
                pol::get::<Complexity>(&self.st, &ctx).await?,
            )),
        })
    }

    async fn update_my_password(
        &self,
        req: Request<UpdateMyPasswordRequest>,
    ) -> Res<UpdateMyPasswordResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateMyPasswordResponse {
            details: Some(
                me::change_password(&self.st, &ctx, &r.old_password, &r.new_password).await?,
            ),
        })
    }

    async fn get_my_profile(&self, req: Request<GetMyProfileRequest>) -> Res<GetMyProfileResponse> {
        let (ctx, _) = split(req)?;
        let u = me::human(&self.st, &ctx, "QUERY-WLTce").await?;
        ok(GetMyProfileResponse {
            details: u.details(),
            profile: Some(u.profile_pb()),
        })
    }

    async fn update_my_profile(
        &self,
        req: Request<UpdateMyProfileRequest>,
    ) -> Res<UpdateMyProfileResponse> {
        let (ctx, r) = split(req)?;
        let p = Profile {
            first_name: r.first_name,
            last_name: r.last_name,
            nick_name: r.nick_name,
            display_name: r.display_name,
            preferred_language: r.preferred_language,
            gender: r.gender,
        };
        ok(UpdateMyProfileResponse {
            details: Some(me::update_profile(&self.st, &ctx, p).await?),
        })
    }

    async fn get_my_email(&self, req: Request<GetMyEmailRequest>) -> Res<GetMyEmailResponse> {
        let (ctx, _) = split(req)?;
        let u = me::human(&self.st, &ctx, "QUERY-pt7HY").await?;
        ok(GetMyEmailResponse {
            details: u.details(),
            email: Some(upb::Email {
                email: u.email,
                is_email_verified: u.email_verified,
            }),
        })
    }

    async fn set_my_email(&self, req: Request<SetMyEmailRequest>) -> Res<SetMyEmailResponse> {
        let (ctx, r) = split(req)?;
        ok(SetMyEmailResponse {
            details: Some(me::set_email(&self.st, &ctx, &r.email).await?),
        })
    }

    async fn get_my_phone(&self, req: Request<GetMyPhoneRequest>) -> Res<GetMyPhoneResponse> {
        let (ctx, _) = split(req)?;
        let u = me::human(&self.st, &ctx, "QUERY-hliQl").await?;
        ok(GetMyPhoneResponse {
            details: u.details(),
            phone: Some(upb::Phone {
                phone: u.phone,
                is_phone_verified: u.phone_verified,
            }),
        })
    }

    async fn set_my_phone(&self, req: Request<SetMyPhoneRequest>) -> Res<SetMyPhoneResponse> {
        let (ctx, r) = split(req)?;
        ok(SetMyPhoneResponse {
            details: Some(me::set_phone(&self.st, &ctx, &r.phone).await?),
        })
    }

    async fn remove_my_phone(
        &self,
        req: Request<RemoveMyPhoneRequest>,
    ) -> Res<RemoveMyPhoneResponse> {
        let (ctx, _) = split(req)?;
        ok(RemoveMyPhoneResponse {
            details: Some(me::remove_phone(&self.st, &ctx).await?),
        })
    }

    async fn list_my_project_orgs(
        &self,
        req: Request<ListMyProjectOrgsRequest>,
    ) -> Res<ListMyProjectOrgsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) = me::project_orgs(&self.st, &ctx, page, &r.queries).await?;
        ok(ListMyProjectOrgsResponse {
            details: list_details(total, pos),
            result: rows.iter().map(|o| o.to_pb()).collect(),
        })
    }

    async fn list_my_project_permissions(
        &self,
        req: Request<ListMyProjectPermissionsRequest>,
    ) -> Res<ListMyProjectPermissionsResponse> {
        let (ctx, _) = split(req)?;
        // Personal access tokens carry no project; OIDC tokens will pass their audience here.
        ok(ListMyProjectPermissionsResponse {
            result: me::project_permissions(&self.st, &ctx, None).await?,
        })
    }

    async fn remove_my_avatar(
        &self,
        req: Request<RemoveMyAvatarRequest>,
    ) -> Res<RemoveMyAvatarResponse> {
        let (ctx, _) = split(req)?;
        let user = ctx.caller()?.user_id.clone();
        let d = assets::remove_avatar(&self.st, &ctx, &user, None).await?;
        ok(RemoveMyAvatarResponse { details: Some(d) })
    }

    async fn get_my_label_policy(
        &self,
        req: Request<GetMyLabelPolicyRequest>,
    ) -> Res<GetMyLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(GetMyLabelPolicyResponse {
            policy: Some(conv::label(
                crate::app::label::get(&self.st, &ctx, false, false).await?,
            )),
        })
    }

    async fn get_my_privacy_policy(
        &self,
        req: Request<GetMyPrivacyPolicyRequest>,
    ) -> Res<GetMyPrivacyPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(GetMyPrivacyPolicyResponse {
            policy: Some(conv::privacy(pol::get::<Privacy>(&self.st, &ctx).await?)),
        })
    }

    async fn get_my_login_policy(
        &self,
        req: Request<GetMyLoginPolicyRequest>,
    ) -> Res<GetMyLoginPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(GetMyLoginPolicyResponse {
            policy: Some(conv::login(pol::get::<Login>(&self.st, &ctx).await?)),
        })
    }
}

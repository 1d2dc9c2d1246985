//! `zitadel.management.v1.ManagementService`: one organisation, chosen by `x-zitadel-orgid`.

use super::{ok, split, Res, Svc};
use crate::app::grants::{self, Side};
use crate::app::members::Scope;
use crate::app::metadata::Owner;
use crate::app::policies as pol;
use crate::app::projects::{self, NewRole};
use crate::app::users::{required, NewHuman};
use crate::app::{
    apps, assets, events, label, members, metadata, org_domain_validation, orgs, tokens,
    user_grants, users,
};
use crate::convert::list_details;
use crate::error::ApiErr;
use crate::grpc::policies as conv;
use castellan_domain::assets::LabelSlot;
use castellan_domain::events::{agg, Profile};
use castellan_domain::oidc_app::OidcSettings;
use castellan_domain::password::Complexity;
use castellan_domain::policy::{Domain, Lockout, Login, Notification, PasswordAge, Privacy};
use castellan_domain::roles::{roles_of_level, Level};
use castellan_proto::zitadel::management::v1::{management_service_server::ManagementService, *};
use tonic::Request;

fn profile(
    first: String,
    last: String,
    nick: String,
    display: String,
    lang: String,
    gender: i32,
) -> Profile {
    Profile {
        first_name: first,
        last_name: last,
        nick_name: nick,
        display_name: display,
        preferred_language: lang,
        gender,
    }
}

/// The OIDC settings of an AddOIDCApp or UpdateOIDCAppConfig request (same field names; only
/// AddOIDCApp has a version).
macro_rules! oidc_settings {
    ($r:expr, $version:expr) => {
        OidcSettings {
            redirect_uris: $r.redirect_uris.clone(),
            response_types: $r.response_types.clone(),
            grant_types: $r.grant_types.clone(),
            app_type: $r.app_type,
            auth_method_type: $r.auth_method_type,
            post_logout_redirect_uris: $r.post_logout_redirect_uris.clone(),
            version: $version,
            dev_mode: $r.dev_mode,
            access_token_type: $r.access_token_type,
            access_token_role_assertion: $r.access_token_role_assertion,
            id_token_role_assertion: $r.id_token_role_assertion,
            id_token_userinfo_assertion: $r.id_token_userinfo_assertion,
            clock_skew_nanos: apps::clock_skew($r.clock_skew.as_ref()),
            additional_origins: $r.additional_origins.clone(),
            skip_native_app_success_page: $r.skip_native_app_success_page,
            back_channel_logout_uri: $r.back_channel_logout_uri.clone(),
            login: apps::login($r.login_version.as_ref()),
        }
    };
}

/// The SAML metadata source of an AddSAMLApp or UpdateSAMLAppConfig request.
macro_rules! saml_source {
    ($r:expr, $m:ident) => {
        $r.metadata.clone().map(|m| {
            use $m::Metadata as A;
            match m {
                A::MetadataXml(x) => apps::SamlSource::Xml(x),
                A::MetadataUrl(u) => apps::SamlSource::Url(u),
            }
        })
    };
}

#[tonic::async_trait]
impl ManagementService for Svc {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Res<HealthzResponse> {
        ok(HealthzResponse {})
    }

    // ---- organisations ----

    async fn get_iam(&self, req: Request<GetIamRequest>) -> Res<GetIamResponse> {
        let (ctx, _) = split(req)?;
        let o = orgs::default_org(&self.st, &ctx).await?;
        ok(GetIamResponse {
            global_org_id: o.id.clone(),
            iam_project_id: ctx.instance_id.clone(),
            default_org_id: o.id,
        })
    }

    async fn get_my_org(&self, req: Request<GetMyOrgRequest>) -> Res<GetMyOrgResponse> {
        let (ctx, _) = split(req)?;
        let o = orgs::get(&self.st, &ctx.instance_id, &ctx.org_id).await?;
        ok(GetMyOrgResponse {
            org: Some(o.to_pb()),
        })
    }

    async fn get_org_by_domain_global(
        &self,
        req: Request<GetOrgByDomainGlobalRequest>,
    ) -> Res<GetOrgByDomainGlobalResponse> {
        let (ctx, r) = split(req)?;
        let o = orgs::by_domain(&self.st, &ctx, &r.domain).await?;
        ok(GetOrgByDomainGlobalResponse {
            org: Some(o.to_pb()),
        })
    }

    async fn list_org_changes(
        &self,
        req: Request<ListOrgChangesRequest>,
    ) -> Res<ListOrgChangesResponse> {
        let (ctx, r) = split(req)?;
        orgs::get(&self.st, &ctx.instance_id, &ctx.org_id).await?;
        let result =
            events::changes(&self.st, &ctx, agg::ORG, &ctx.org_id, r.query.as_ref()).await?;
        ok(ListOrgChangesResponse { result })
    }

    async fn add_org(&self, req: Request<AddOrgRequest>) -> Res<AddOrgResponse> {
        let (ctx, r) = split(req)?;
        let (id, details) = orgs::add(&self.st, &ctx, &r.name).await?;
        ok(AddOrgResponse {
            id,
            details: Some(details),
        })
    }

    async fn update_org(&self, req: Request<UpdateOrgRequest>) -> Res<UpdateOrgResponse> {
        let (ctx, r) = split(req)?;
        let details = orgs::update(&self.st, &ctx, &ctx.org_id, &r.name).await?;
        ok(UpdateOrgResponse {
            details: Some(details),
        })
    }

    async fn deactivate_org(
        &self,
        req: Request<DeactivateOrgRequest>,
    ) -> Res<DeactivateOrgResponse> {
        let (ctx, _) = split(req)?;
        ok(DeactivateOrgResponse {
            details: Some(orgs::deactivate(&self.st, &ctx, &ctx.org_id).await?),
        })
    }

    async fn reactivate_org(
        &self,
        req: Request<ReactivateOrgRequest>,
    ) -> Res<ReactivateOrgResponse> {
        let (ctx, _) = split(req)?;
        ok(ReactivateOrgResponse {
            details: Some(orgs::reactivate(&self.st, &ctx, &ctx.org_id).await?),
        })
    }

    async fn remove_org(&self, req: Request<RemoveOrgRequest>) -> Res<RemoveOrgResponse> {
        let (ctx, _) = split(req)?;
        ok(RemoveOrgResponse {
            details: Some(orgs::remove(&self.st, &ctx, &ctx.org_id).await?),
        })
    }

    // ---- organisation domains ----

    async fn add_org_domain(&self, req: Request<AddOrgDomainRequest>) -> Res<AddOrgDomainResponse> {
        let (ctx, r) = split(req)?;
        let details = orgs::add_domain(&self.st, &ctx, &ctx.org_id, &r.domain).await?;
        ok(AddOrgDomainResponse {
            details: Some(details),
        })
    }

    async fn list_org_domains(
        &self,
        req: Request<ListOrgDomainsRequest>,
    ) -> Res<ListOrgDomainsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            orgs::list_domains(&self.st, &ctx, &ctx.org_id, page, &r.queries).await?;
        ok(ListOrgDomainsResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn remove_org_domain(
        &self,
        req: Request<RemoveOrgDomainRequest>,
    ) -> Res<RemoveOrgDomainResponse> {
        let (ctx, r) = split(req)?;
        let details = orgs::remove_domain(&self.st, &ctx, &ctx.org_id, &r.domain).await?;
        ok(RemoveOrgDomainResponse {
            details: Some(details),
        })
    }

    async fn generate_org_domain_validation(
        &self,
        req: Request<GenerateOrgDomainValidationRequest>,
    ) -> Res<GenerateOrgDomainValidationResponse> {
        let (ctx, r) = split(req)?;
        let (token, url) =
            org_domain_validation::generate(&self.st, &ctx, &ctx.org_id, &r.domain, r.r#type)
                .await?;
        ok(GenerateOrgDomainValidationResponse { token, url })
    }

    async fn validate_org_domain(
        &self,
        req: Request<ValidateOrgDomainRequest>,
    ) -> Res<ValidateOrgDomainResponse> {
        let (ctx, r) = split(req)?;
        let details =
            org_domain_validation::validate(&self.st, &ctx, &ctx.org_id, &r.domain).await?;
        ok(ValidateOrgDomainResponse {
            details: Some(details),
        })
    }

    async fn set_primary_org_domain(
        &self,
        req: Request<SetPrimaryOrgDomainRequest>,
    ) -> Res<SetPrimaryOrgDomainResponse> {
        let (ctx, r) = split(req)?;
        let details = orgs::set_primary_domain(&self.st, &ctx, &ctx.org_id, &r.domain).await?;
        ok(SetPrimaryOrgDomainResponse {
            details: Some(details),
        })
    }

    // ---- organisation metadata ----

    async fn set_org_metadata(
        &self,
        req: Request<SetOrgMetadataRequest>,
    ) -> Res<SetOrgMetadataResponse> {
        let (ctx, r) = split(req)?;
        let details = metadata::set(
            &self.st,
            &ctx,
            Owner::Org,
            &ctx.org_id,
            vec![(r.key, r.value)],
        )
        .await?;
        ok(SetOrgMetadataResponse {
            details: Some(details),
        })
    }

    async fn bulk_set_org_metadata(
        &self,
        req: Request<BulkSetOrgMetadataRequest>,
    ) -> Res<BulkSetOrgMetadataResponse> {
        let (ctx, r) = split(req)?;
        let entries = r.metadata.into_iter().map(|m| (m.key, m.value)).collect();
        ok(BulkSetOrgMetadataResponse {
            details: Some(metadata::set(&self.st, &ctx, Owner::Org, &ctx.org_id, entries).await?),
        })
    }

    async fn list_org_metadata(
        &self,
        req: Request<ListOrgMetadataRequest>,
    ) -> Res<ListOrgMetadataResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            metadata::list(&self.st, &ctx, Owner::Org, &ctx.org_id, page, &r.queries).await?;
        ok(ListOrgMetadataResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn get_org_metadata(
        &self,
        req: Request<GetOrgMetadataRequest>,
    ) -> Res<GetOrgMetadataResponse> {
        let (ctx, r) = split(req)?;
        ok(GetOrgMetadataResponse {
            metadata: Some(metadata::get(&self.st, &ctx, Owner::Org, &ctx.org_id, &r.key).await?),
        })
    }

    async fn remove_org_metadata(
        &self,
        req: Request<RemoveOrgMetadataRequest>,
    ) -> Res<RemoveOrgMetadataResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveOrgMetadataResponse {
            details: Some(
                metadata::remove(&self.st, &ctx, Owner::Org, &ctx.org_id, vec![r.key]).await?,
            ),
        })
    }

    async fn bulk_remove_org_metadata(
        &self,
        req: Request<BulkRemoveOrgMetadataRequest>,
    ) -> Res<BulkRemoveOrgMetadataResponse> {
        let (ctx, r) = split(req)?;
        ok(BulkRemoveOrgMetadataResponse {
            details: Some(metadata::remove(&self.st, &ctx, Owner::Org, &ctx.org_id, r.keys).await?),
        })
    }

    // ---- organisation members ----

    async fn list_org_member_roles(
        &self,
        _: Request<ListOrgMemberRolesRequest>,
    ) -> Res<ListOrgMemberRolesResponse> {
        ok(ListOrgMemberRolesResponse {
            result: roles_of_level(Level::Org)
                .into_iter()
                .map(str::to_string)
                .collect(),
        })
    }

    async fn list_org_members(
        &self,
        req: Request<ListOrgMembersRequest>,
    ) -> Res<ListOrgMembersResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = members::list(
            &self.st,
            &ctx,
            Scope::Org(ctx.org_id.clone()),
            page,
            &r.queries,
        )
        .await?;
        ok(ListOrgMembersResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn add_org_member(&self, req: Request<AddOrgMemberRequest>) -> Res<AddOrgMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::Org(ctx.org_id.clone()),
            &r.user_id,
            Some(r.roles),
            true,
        )
        .await?;
        ok(AddOrgMemberResponse { details: Some(d) })
    }

    async fn update_org_member(
        &self,
        req: Request<UpdateOrgMemberRequest>,
    ) -> Res<UpdateOrgMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::Org(ctx.org_id.clone()),
            &r.user_id,
            Some(r.roles),
            false,
        )
        .await?;
        ok(UpdateOrgMemberResponse { details: Some(d) })
    }

    async fn remove_org_member(
        &self,
        req: Request<RemoveOrgMemberRequest>,
    ) -> Res<RemoveOrgMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::Org(ctx.org_id.clone()),
            &r.user_id,
            None,
            false,
        )
        .await?;
        ok(RemoveOrgMemberResponse { details: Some(d) })
    }

    // ---- users ----

    async fn add_human_user(&self, req: Request<AddHumanUserRequest>) -> Res<AddHumanUserResponse> {
        let (ctx, r) = split(req)?;
        let p = required(r.profile, "profile")?;
        let e = required(r.email, "email")?;
        let ph = r.phone.unwrap_or_default();
        let h = NewHuman {
            username: r.user_name,
            profile: profile(
                p.first_name,
                p.last_name,
                p.nick_name,
                p.display_name,
                p.preferred_language,
                p.gender,
            ),
            email: e.email,
            email_verified: e.is_email_verified,
            phone: ph.phone,
            phone_verified: ph.is_phone_verified,
            password: r.initial_password,
            ..Default::default()
        };
        let (user_id, details) = users::add_human(&self.st, &ctx, ctx.org_id.clone(), h).await?;
        ok(AddHumanUserResponse {
            user_id,
            details: Some(details),
        })
    }

    async fn import_human_user(
        &self,
        req: Request<ImportHumanUserRequest>,
    ) -> Res<ImportHumanUserResponse> {
        let (ctx, r) = split(req)?;
        let p = required(r.profile, "profile")?;
        let e = required(r.email, "email")?;
        let ph = r.phone.unwrap_or_default();
        let h = NewHuman {
            username: r.user_name,
            profile: profile(
                p.first_name,
                p.last_name,
                p.nick_name,
                p.display_name,
                p.preferred_language,
                p.gender,
            ),
            email: e.email,
            email_verified: e.is_email_verified,
            phone: ph.phone,
            phone_verified: ph.is_phone_verified,
            password: r.password,
            hashed_password: r.hashed_password.map(|h| h.value).unwrap_or_default(),
            password_change_required: r.password_change_required,
            user_id: None,
        };
        let (user_id, details) = users::add_human(&self.st, &ctx, ctx.org_id.clone(), h).await?;
        ok(ImportHumanUserResponse {
            user_id,
            details: Some(details),
            passwordless_registration: None,
        })
    }

    async fn add_machine_user(
        &self,
        req: Request<AddMachineUserRequest>,
    ) -> Res<AddMachineUserResponse> {
        let (ctx, r) = split(req)?;
        let m = users::NewMachine {
            username: r.user_name,
            name: r.name,
            description: r.description,
            access_token_type: r.access_token_type,
            user_id: r.user_id,
        };
        let (user_id, details) = users::add_machine(&self.st, &ctx, ctx.org_id.clone(), m).await?;
        ok(AddMachineUserResponse {
            user_id,
            details: Some(details),
        })
    }

    async fn get_user_by_id(&self, req: Request<GetUserByIdRequest>) -> Res<GetUserByIdResponse> {
        let (ctx, r) = split(req)?;
        ok(GetUserByIdResponse {
            user: Some(users::get(&self.st, &ctx, &r.id).await?.to_pb()),
        })
    }

    async fn get_user_by_login_name_global(
        &self,
        req: Request<GetUserByLoginNameGlobalRequest>,
    ) -> Res<GetUserByLoginNameGlobalResponse> {
        let (ctx, r) = split(req)?;
        ok(GetUserByLoginNameGlobalResponse {
            user: Some(
                users::by_login_name(&self.st, &ctx, &r.login_name)
                    .await?
                    .to_pb(),
            ),
        })
    }

    async fn list_users(&self, req: Request<ListUsersRequest>) -> Res<ListUsersResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) = users::list(
            &self.st,
            &ctx,
            Some(ctx.org_id.clone()),
            page,
            r.sorting_column,
            &r.queries,
        )
        .await?;
        ok(ListUsersResponse {
            details: list_details(total, pos),
            sorting_column: r.sorting_column,
            result: rows.iter().map(|u| u.to_pb()).collect(),
        })
    }

    async fn list_user_changes(
        &self,
        req: Request<ListUserChangesRequest>,
    ) -> Res<ListUserChangesResponse> {
        let (ctx, r) = split(req)?;
        users::get(&self.st, &ctx, &r.user_id).await?;
        ok(ListUserChangesResponse {
            result: events::changes(&self.st, &ctx, agg::USER, &r.user_id, r.query.as_ref())
                .await?,
        })
    }

    async fn is_user_unique(&self, req: Request<IsUserUniqueRequest>) -> Res<IsUserUniqueResponse> {
        let (ctx, r) = split(req)?;
        ok(IsUserUniqueResponse {
            is_unique: users::is_unique(&self.st, &ctx, &r.user_name, &r.email).await?,
        })
    }

    async fn list_user_memberships(
        &self,
        req: Request<ListUserMembershipsRequest>,
    ) -> Res<ListUserMembershipsResponse> {
        let (ctx, r) = split(req)?;
        users::get(&self.st, &ctx, &r.user_id).await?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            members::memberships(&self.st, &ctx, &r.user_id, page, &r.queries).await?;
        ok(ListUserMembershipsResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn update_user_name(
        &self,
        req: Request<UpdateUserNameRequest>,
    ) -> Res<UpdateUserNameResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateUserNameResponse {
            details: Some(users::update_username(&self.st, &ctx, &r.user_id, &r.user_name).await?),
        })
    }

    async fn deactivate_user(
        &self,
        req: Request<DeactivateUserRequest>,
    ) -> Res<DeactivateUserResponse> {
        let (ctx, r) = split(req)?;
        ok(DeactivateUserResponse {
            details: Some(users::deactivate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn reactivate_user(
        &self,
        req: Request<ReactivateUserRequest>,
    ) -> Res<ReactivateUserResponse> {
        let (ctx, r) = split(req)?;
        ok(ReactivateUserResponse {
            details: Some(users::reactivate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn lock_user(&self, req: Request<LockUserRequest>) -> Res<LockUserResponse> {
        let (ctx, r) = split(req)?;
        ok(LockUserResponse {
            details: Some(users::lock(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn unlock_user(&self, req: Request<UnlockUserRequest>) -> Res<UnlockUserResponse> {
        let (ctx, r) = split(req)?;
        ok(UnlockUserResponse {
            details: Some(users::unlock(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn remove_user(&self, req: Request<RemoveUserRequest>) -> Res<RemoveUserResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveUserResponse {
            details: Some(users::remove(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn get_human_profile(
        &self,
        req: Request<GetHumanProfileRequest>,
    ) -> Res<GetHumanProfileResponse> {
        let (ctx, r) = split(req)?;
        let u = human_of(users::get(&self.st, &ctx, &r.user_id).await?)?;
        ok(GetHumanProfileResponse {
            details: u.details(),
            profile: Some(u.profile_pb()),
        })
    }

    async fn update_human_profile(
        &self,
        req: Request<UpdateHumanProfileRequest>,
    ) -> Res<UpdateHumanProfileResponse> {
        let (ctx, r) = split(req)?;
        let p = profile(
            r.first_name,
            r.last_name,
            r.nick_name,
            r.display_name,
            r.preferred_language,
            r.gender,
        );
        ok(UpdateHumanProfileResponse {
            details: Some(users::update_profile(&self.st, &ctx, &r.user_id, p).await?),
        })
    }

    async fn get_human_email(
        &self,
        req: Request<GetHumanEmailRequest>,
    ) -> Res<GetHumanEmailResponse> {
        let (ctx, r) = split(req)?;
        let u = human_of(users::get(&self.st, &ctx, &r.user_id).await?)?;
        let email = castellan_proto::zitadel::user::v1::Email {
            email: u.email.clone(),
            is_email_verified: u.email_verified,
        };
        ok(GetHumanEmailResponse {
            details: u.details(),
            email: Some(email),
        })
    }

    async fn update_human_email(
        &self,
        req: Request<UpdateHumanEmailRequest>,
    ) -> Res<UpdateHumanEmailResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateHumanEmailResponse {
            details: Some(
                users::update_email(&self.st, &ctx, &r.user_id, &r.email, r.is_email_verified)
                    .await?,
            ),
        })
    }

    async fn get_human_phone(
        &self,
        req: Request<GetHumanPhoneRequest>,
    ) -> Res<GetHumanPhoneResponse> {
        let (ctx, r) = split(req)?;
        let u = human_of(users::get(&self.st, &ctx, &r.user_id).await?)?;
        let phone = castellan_proto::zitadel::user::v1::Phone {
            phone: u.phone.clone(),
            is_phone_verified: u.phone_verified,
        };
        ok(GetHumanPhoneResponse {
            details: u.details(),
            phone: Some(phone),
        })
    }

    async fn update_human_phone(
        &self,
        req: Request<UpdateHumanPhoneRequest>,
    ) -> Res<UpdateHumanPhoneResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateHumanPhoneResponse {
            details: Some(
                users::update_phone(&self.st, &ctx, &r.user_id, &r.phone, r.is_phone_verified)
                    .await?,
            ),
        })
    }

    async fn remove_human_phone(
        &self,
        req: Request<RemoveHumanPhoneRequest>,
    ) -> Res<RemoveHumanPhoneResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveHumanPhoneResponse {
            details: Some(users::remove_phone(&self.st, &ctx, &r.user_id).await?),
        })
    }

    async fn remove_human_avatar(
        &self,
        req: Request<RemoveHumanAvatarRequest>,
    ) -> Res<RemoveHumanAvatarResponse> {
        let (ctx, r) = split(req)?;
        let d = assets::remove_avatar(&self.st, &ctx, &r.user_id, Some(&ctx.org_id)).await?;
        ok(RemoveHumanAvatarResponse { details: Some(d) })
    }

    async fn set_human_initial_password(
        &self,
        req: Request<SetHumanInitialPasswordRequest>,
    ) -> Res<SetHumanInitialPasswordResponse> {
        let (ctx, r) = split(req)?;
        ok(SetHumanInitialPasswordResponse {
            details: Some(
                users::set_password(&self.st, &ctx, &r.user_id, &r.password, true, true).await?,
            ),
        })
    }

    async fn set_human_password(
        &self,
        req: Request<SetHumanPasswordRequest>,
    ) -> Res<SetHumanPasswordResponse> {
        let (ctx, r) = split(req)?;
        ok(SetHumanPasswordResponse {
            details: Some(
                users::set_password(
                    &self.st,
                    &ctx,
                    &r.user_id,
                    &r.password,
                    !r.no_change_required,
                    false,
                )
                .await?,
            ),
        })
    }

    async fn update_machine(
        &self,
        req: Request<UpdateMachineRequest>,
    ) -> Res<UpdateMachineResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateMachineResponse {
            details: Some(
                users::update_machine(
                    &self.st,
                    &ctx,
                    &r.user_id,
                    &r.name,
                    &r.description,
                    r.access_token_type,
                )
                .await?,
            ),
        })
    }

    async fn generate_machine_secret(
        &self,
        req: Request<GenerateMachineSecretRequest>,
    ) -> Res<GenerateMachineSecretResponse> {
        let (ctx, r) = split(req)?;
        let (client_id, client_secret, details) =
            users::generate_secret(&self.st, &ctx, &r.user_id).await?;
        ok(GenerateMachineSecretResponse {
            client_id,
            client_secret,
            details: Some(details),
        })
    }

    async fn remove_machine_secret(
        &self,
        req: Request<RemoveMachineSecretRequest>,
    ) -> Res<RemoveMachineSecretResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveMachineSecretResponse {
            details: Some(users::remove_secret(&self.st, &ctx, &r.user_id).await?),
        })
    }

    // ---- user metadata ----

    async fn set_user_metadata(
        &self,
        req: Request<SetUserMetadataRequest>,
    ) -> Res<SetUserMetadataResponse> {
        let (ctx, r) = split(req)?;
        let details =
            metadata::set(&self.st, &ctx, Owner::User, &r.id, vec![(r.key, r.value)]).await?;
        ok(SetUserMetadataResponse {
            id: r.id,
            details: Some(details),
        })
    }

    async fn bulk_set_user_metadata(
        &self,
        req: Request<BulkSetUserMetadataRequest>,
    ) -> Res<BulkSetUserMetadataResponse> {
        let (ctx, r) = split(req)?;
        let entries = r.metadata.into_iter().map(|m| (m.key, m.value)).collect();
        ok(BulkSetUserMetadataResponse {
            details: Some(metadata::set(&self.st, &ctx, Owner::User, &r.id, entries).await?),
        })
    }

    async fn list_user_metadata(
        &self,
        req: Request<ListUserMetadataRequest>,
    ) -> Res<ListUserMetadataResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            metadata::list(&self.st, &ctx, Owner::User, &r.id, page, &r.queries).await?;
        ok(ListUserMetadataResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn get_user_metadata(
        &self,
        req: Request<GetUserMetadataRequest>,
    ) -> Res<GetUserMetadataResponse> {
        let (ctx, r) = split(req)?;
        ok(GetUserMetadataResponse {
            metadata: Some(metadata::get(&self.st, &ctx, Owner::User, &r.id, &r.key).await?),
        })
    }

    async fn remove_user_metadata(
        &self,
        req: Request<RemoveUserMetadataRequest>,
    ) -> Res<RemoveUserMetadataResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveUserMetadataResponse {
            details: Some(metadata::remove(&self.st, &ctx, Owner::User, &r.id, vec![r.key]).await?),
        })
    }

    async fn bulk_remove_user_metadata(
        &self,
        req: Request<BulkRemoveUserMetadataRequest>,
    ) -> Res<BulkRemoveUserMetadataResponse> {
        let (ctx, r) = split(req)?;
        ok(BulkRemoveUserMetadataResponse {
            details: Some(metadata::remove(&self.st, &ctx, Owner::User, &r.id, r.keys).await?),
        })
    }

    // ---- machine credentials ----

    async fn list_personal_access_tokens(
        &self,
        req: Request<ListPersonalAccessTokensRequest>,
    ) -> Res<ListPersonalAccessTokensResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = tokens::list_pats(&self.st, &ctx, &r.user_id, page).await?;
        ok(ListPersonalAccessTokensResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn get_personal_access_token_by_i_ds(
        &self,
        req: Request<GetPersonalAccessTokenByIDsRequest>,
    ) -> Res<GetPersonalAccessTokenByIDsResponse> {
        let (ctx, r) = split(req)?;
        ok(GetPersonalAccessTokenByIDsResponse {
            token: Some(tokens::get_pat(&self.st, &ctx, &r.user_id, &r.token_id).await?),
        })
    }

    async fn add_personal_access_token(
        &self,
        req: Request<AddPersonalAccessTokenRequest>,
    ) -> Res<AddPersonalAccessTokenResponse> {
        let (ctx, r) = split(req)?;
        let (token_id, token, details) =
            tokens::add_pat(&self.st, &ctx, &r.user_id, r.expiration_date.as_ref()).await?;
        ok(AddPersonalAccessTokenResponse {
            token_id,
            token,
            details: Some(details),
        })
    }

    async fn remove_personal_access_token(
        &self,
        req: Request<RemovePersonalAccessTokenRequest>,
    ) -> Res<RemovePersonalAccessTokenResponse> {
        let (ctx, r) = split(req)?;
        ok(RemovePersonalAccessTokenResponse {
            details: Some(
                tokens::remove(&self.st, &ctx, tokens::Cred::Pat, &r.user_id, &r.token_id).await?,
            ),
        })
    }

    async fn list_machine_keys(
        &self,
        req: Request<ListMachineKeysRequest>,
    ) -> Res<ListMachineKeysResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = tokens::list_keys(&self.st, &ctx, &r.user_id, page).await?;
        ok(ListMachineKeysResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn get_machine_key_by_i_ds(
        &self,
        req: Request<GetMachineKeyByIDsRequest>,
    ) -> Res<GetMachineKeyByIDsResponse> {
        let (ctx, r) = split(req)?;
        ok(GetMachineKeyByIDsResponse {
            key: Some(tokens::get_key(&self.st, &ctx, &r.user_id, &r.key_id).await?),
        })
    }

    async fn add_machine_key(
        &self,
        req: Request<AddMachineKeyRequest>,
    ) -> Res<AddMachineKeyResponse> {
        let (ctx, r) = split(req)?;
        let (key_id, key_details, details) = tokens::add_key(
            &self.st,
            &ctx,
            &r.user_id,
            r.r#type,
            r.expiration_date.as_ref(),
            &r.public_key,
        )
        .await?;
        ok(AddMachineKeyResponse {
            key_id,
            key_details,
            details: Some(details),
        })
    }

    async fn remove_machine_key(
        &self,
        req: Request<RemoveMachineKeyRequest>,
    ) -> Res<RemoveMachineKeyResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveMachineKeyResponse {
            details: Some(
                tokens::remove(&self.st, &ctx, tokens::Cred::Key, &r.user_id, &r.key_id).await?,
            ),
        })
    }

    // ---- projects ----

    async fn get_project_by_id(
        &self,
        req: Request<GetProjectByIdRequest>,
    ) -> Res<GetProjectByIdResponse> {
        let (ctx, r) = split(req)?;
        let p = projects::get(&self.st, &ctx, &r.id).await?;
        ok(GetProjectByIdResponse {
            project: Some(p.to_pb()),
        })
    }

    async fn list_projects(&self, req: Request<ListProjectsRequest>) -> Res<ListProjectsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) = projects::list(&self.st, &ctx, page, &r.queries).await?;
        ok(ListProjectsResponse {
            details: list_details(total, pos),
            result: rows.iter().map(projects::ProjectRow::to_pb).collect(),
        })
    }

    async fn list_project_changes(
        &self,
        req: Request<ListProjectChangesRequest>,
    ) -> Res<ListProjectChangesResponse> {
        let (ctx, r) = split(req)?;
        projects::get(&self.st, &ctx, &r.project_id).await?;
        let result = events::changes(
            &self.st,
            &ctx,
            agg::PROJECT,
            &r.project_id,
            r.query.as_ref(),
        )
        .await?;
        ok(ListProjectChangesResponse { result })
    }

    async fn add_project(&self, req: Request<AddProjectRequest>) -> Res<AddProjectResponse> {
        let (ctx, r) = split(req)?;
        let s = projects::settings(
            &r.name,
            r.project_role_assertion,
            r.project_role_check,
            r.has_project_check,
            r.private_labeling_setting,
        )?;
        let (id, details) = projects::add(&self.st, &ctx, s).await?;
        ok(AddProjectResponse {
            id,
            details: Some(details),
        })
    }

    async fn update_project(
        &self,
        req: Request<UpdateProjectRequest>,
    ) -> Res<UpdateProjectResponse> {
        let (ctx, r) = split(req)?;
        let s = projects::settings(
            &r.name,
            r.project_role_assertion,
            r.project_role_check,
            r.has_project_check,
            r.private_labeling_setting,
        )?;
        ok(UpdateProjectResponse {
            details: Some(projects::update(&self.st, &ctx, &r.id, s).await?),
        })
    }

    async fn deactivate_project(
        &self,
        req: Request<DeactivateProjectRequest>,
    ) -> Res<DeactivateProjectResponse> {
        let (ctx, r) = split(req)?;
        ok(DeactivateProjectResponse {
            details: Some(projects::deactivate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn reactivate_project(
        &self,
        req: Request<ReactivateProjectRequest>,
    ) -> Res<ReactivateProjectResponse> {
        let (ctx, r) = split(req)?;
        ok(ReactivateProjectResponse {
            details: Some(projects::reactivate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn remove_project(
        &self,
        req: Request<RemoveProjectRequest>,
    ) -> Res<RemoveProjectResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveProjectResponse {
            details: Some(projects::remove(&self.st, &ctx, &r.id).await?),
        })
    }

    // ---- project roles ----

    async fn list_project_roles(
        &self,
        req: Request<ListProjectRolesRequest>,
    ) -> Res<ListProjectRolesResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            projects::list_roles(&self.st, &ctx, &r.project_id, page, &r.queries).await?;
        ok(ListProjectRolesResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn add_project_role(
        &self,
        req: Request<AddProjectRoleRequest>,
    ) -> Res<AddProjectRoleResponse> {
        let (ctx, r) = split(req)?;
        let role = NewRole::new("roleKey", &r.role_key, &r.display_name, &r.group)?;
        ok(AddProjectRoleResponse {
            details: Some(projects::add_roles(&self.st, &ctx, &r.project_id, vec![role]).await?),
        })
    }

    async fn bulk_add_project_roles(
        &self,
        req: Request<BulkAddProjectRolesRequest>,
    ) -> Res<BulkAddProjectRolesResponse> {
        let (ctx, r) = split(req)?;
        let roles = r
            .roles
            .iter()
            .map(|x| NewRole::new("key", &x.key, &x.display_name, &x.group))
            .collect::<Result<Vec<_>, _>>()?;
        ok(BulkAddProjectRolesResponse {
            details: Some(projects::add_roles(&self.st, &ctx, &r.project_id, roles).await?),
        })
    }

    async fn update_project_role(
        &self,
        req: Request<UpdateProjectRoleRequest>,
    ) -> Res<UpdateProjectRoleResponse> {
        let (ctx, r) = split(req)?;
        let role = NewRole::new("roleKey", &r.role_key, &r.display_name, &r.group)?;
        ok(UpdateProjectRoleResponse {
            details: Some(projects::update_role(&self.st, &ctx, &r.project_id, role).await?),
        })
    }

    async fn remove_project_role(
        &self,
        req: Request<RemoveProjectRoleRequest>,
    ) -> Res<RemoveProjectRoleResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveProjectRoleResponse {
            details: Some(projects::remove_role(&self.st, &ctx, &r.project_id, &r.role_key).await?),
        })
    }

    // ---- project members ----

    async fn list_project_member_roles(
        &self,
        _: Request<ListProjectMemberRolesRequest>,
    ) -> Res<ListProjectMemberRolesResponse> {
        let result: Vec<String> = roles_of_level(Level::Project)
            .into_iter()
            .map(str::to_string)
            .collect();
        ok(ListProjectMemberRolesResponse {
            details: list_details(result.len() as i64, 0),
            result,
        })
    }

    async fn list_project_members(
        &self,
        req: Request<ListProjectMembersRequest>,
    ) -> Res<ListProjectMembersResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = members::list(
            &self.st,
            &ctx,
            Scope::Project(r.project_id),
            page,
            &r.queries,
        )
        .await?;
        ok(ListProjectMembersResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn add_project_member(
        &self,
        req: Request<AddProjectMemberRequest>,
    ) -> Res<AddProjectMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::Project(r.project_id),
            &r.user_id,
            Some(r.roles),
            true,
        )
        .await?;
        ok(AddProjectMemberResponse { details: Some(d) })
    }

    async fn update_project_member(
        &self,
        req: Request<UpdateProjectMemberRequest>,
    ) -> Res<UpdateProjectMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::Project(r.project_id),
            &r.user_id,
            Some(r.roles),
            false,
        )
        .await?;
        ok(UpdateProjectMemberResponse { details: Some(d) })
    }

    async fn remove_project_member(
        &self,
        req: Request<RemoveProjectMemberRequest>,
    ) -> Res<RemoveProjectMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::Project(r.project_id),
            &r.user_id,
            None,
            false,
        )
        .await?;
        ok(RemoveProjectMemberResponse { details: Some(d) })
    }

    // ---- applications ----

    async fn get_app_by_id(&self, req: Request<GetAppByIdRequest>) -> Res<GetAppByIdResponse> {
        let (ctx, r) = split(req)?;
        let a = apps::get(&self.st, &ctx, &r.project_id, &r.app_id).await?;
        ok(GetAppByIdResponse {
            app: Some(a.to_pb().map_err(ApiErr)?),
        })
    }

    async fn list_apps(&self, req: Request<ListAppsRequest>) -> Res<ListAppsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) =
            apps::list(&self.st, &ctx, &r.project_id, page, &r.queries).await?;
        let result = rows
            .iter()
            .map(apps::AppRow::to_pb)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ApiErr)?;
        ok(ListAppsResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn list_app_changes(
        &self,
        req: Request<ListAppChangesRequest>,
    ) -> Res<ListAppChangesResponse> {
        let (ctx, r) = split(req)?;
        apps::get(&self.st, &ctx, &r.project_id, &r.app_id).await?;
        let result =
            events::app_changes(&self.st, &ctx, &r.project_id, &r.app_id, r.query.as_ref()).await?;
        ok(ListAppChangesResponse { result })
    }

    async fn add_oidc_app(&self, req: Request<AddOidcAppRequest>) -> Res<AddOidcAppResponse> {
        let (ctx, r) = split(req)?;
        let name = apps::name(&r.name)?;
        let a = apps::add_oidc(
            &self.st,
            &ctx,
            &r.project_id,
            name,
            oidc_settings!(r, r.version),
        )
        .await?;
        ok(AddOidcAppResponse {
            app_id: a.app_id,
            details: Some(a.details),
            client_id: a.client_id,
            client_secret: a.client_secret,
            none_compliant: a.compliance.none_compliant,
            compliance_problems: apps::problems(&a.compliance),
        })
    }

    async fn add_saml_app(&self, req: Request<AddSamlAppRequest>) -> Res<AddSamlAppResponse> {
        let (ctx, r) = split(req)?;
        let name = apps::name(&r.name)?;
        let login = apps::login(r.login_version.as_ref());
        let (app_id, details) = apps::add_saml(
            &self.st,
            &ctx,
            &r.project_id,
            name,
            saml_source!(r, add_saml_app_request),
            login,
        )
        .await?;
        ok(AddSamlAppResponse {
            app_id,
            details: Some(details),
        })
    }

    async fn add_api_app(&self, req: Request<AddApiAppRequest>) -> Res<AddApiAppResponse> {
        let (ctx, r) = split(req)?;
        let name = apps::name(&r.name)?;
        let (app_id, client_id, client_secret, details) =
            apps::add_api(&self.st, &ctx, &r.project_id, name, r.auth_method_type).await?;
        ok(AddApiAppResponse {
            app_id,
            details: Some(details),
            client_id,
            client_secret,
        })
    }

    async fn update_app(&self, req: Request<UpdateAppRequest>) -> Res<UpdateAppResponse> {
        let (ctx, r) = split(req)?;
        let name = apps::name(&r.name)?;
        ok(UpdateAppResponse {
            details: Some(apps::rename(&self.st, &ctx, &r.project_id, &r.app_id, name).await?),
        })
    }

    async fn update_oidc_app_config(
        &self,
        req: Request<UpdateOidcAppConfigRequest>,
    ) -> Res<UpdateOidcAppConfigResponse> {
        let (ctx, r) = split(req)?;
        let s = oidc_settings!(r, 0);
        ok(UpdateOidcAppConfigResponse {
            details: Some(apps::update_oidc(&self.st, &ctx, &r.project_id, &r.app_id, s).await?),
        })
    }

    async fn update_saml_app_config(
        &self,
        req: Request<UpdateSamlAppConfigRequest>,
    ) -> Res<UpdateSamlAppConfigResponse> {
        let (ctx, r) = split(req)?;
        let login = apps::login(r.login_version.as_ref());
        let src = saml_source!(r, update_saml_app_config_request);
        ok(UpdateSamlAppConfigResponse {
            details: Some(
                apps::update_saml(&self.st, &ctx, &r.project_id, &r.app_id, src, login).await?,
            ),
        })
    }

    async fn update_api_app_config(
        &self,
        req: Request<UpdateApiAppConfigRequest>,
    ) -> Res<UpdateApiAppConfigResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateApiAppConfigResponse {
            details: Some(
                apps::update_api(&self.st, &ctx, &r.project_id, &r.app_id, r.auth_method_type)
                    .await?,
            ),
        })
    }

    async fn deactivate_app(
        &self,
        req: Request<DeactivateAppRequest>,
    ) -> Res<DeactivateAppResponse> {
        let (ctx, r) = split(req)?;
        ok(DeactivateAppResponse {
            details: Some(apps::deactivate(&self.st, &ctx, &r.project_id, &r.app_id).await?),
        })
    }

    async fn reactivate_app(
        &self,
        req: Request<ReactivateAppRequest>,
    ) -> Res<ReactivateAppResponse> {
        let (ctx, r) = split(req)?;
        ok(ReactivateAppResponse {
            details: Some(apps::reactivate(&self.st, &ctx, &r.project_id, &r.app_id).await?),
        })
    }

    async fn remove_app(&self, req: Request<RemoveAppRequest>) -> Res<RemoveAppResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveAppResponse {
            details: Some(apps::remove(&self.st, &ctx, &r.project_id, &r.app_id).await?),
        })
    }

    async fn regenerate_oidc_client_secret(
        &self,
        req: Request<RegenerateOidcClientSecretRequest>,
    ) -> Res<RegenerateOidcClientSecretResponse> {
        let (ctx, r) = split(req)?;
        let (client_secret, details) =
            apps::regenerate_secret(&self.st, &ctx, &r.project_id, &r.app_id, true).await?;
        ok(RegenerateOidcClientSecretResponse {
            client_secret,
            details: Some(details),
        })
    }

    async fn regenerate_api_client_secret(
        &self,
        req: Request<RegenerateApiClientSecretRequest>,
    ) -> Res<RegenerateApiClientSecretResponse> {
        let (ctx, r) = split(req)?;
        let (client_secret, details) =
            apps::regenerate_secret(&self.st, &ctx, &r.project_id, &r.app_id, false).await?;
        ok(RegenerateApiClientSecretResponse {
            client_secret,
            details: Some(details),
        })
    }

    async fn get_app_key(&self, req: Request<GetAppKeyRequest>) -> Res<GetAppKeyResponse> {
        let (ctx, r) = split(req)?;
        let key = apps::get_key(&self.st, &ctx, &r.project_id, &r.app_id, &r.key_id).await?;
        ok(GetAppKeyResponse { key: Some(key) })
    }

    async fn list_app_keys(&self, req: Request<ListAppKeysRequest>) -> Res<ListAppKeysResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            apps::list_keys(&self.st, &ctx, &r.project_id, &r.app_id, page).await?;
        ok(ListAppKeysResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn add_app_key(&self, req: Request<AddAppKeyRequest>) -> Res<AddAppKeyResponse> {
        let (ctx, r) = split(req)?;
        let (id, key_details, details) = apps::add_key(
            &self.st,
            &ctx,
            &r.project_id,
            &r.app_id,
            r.r#type,
            r.expiration_date.as_ref(),
        )
        .await?;
        ok(AddAppKeyResponse {
            id,
            details: Some(details),
            key_details,
        })
    }

    async fn remove_app_key(&self, req: Request<RemoveAppKeyRequest>) -> Res<RemoveAppKeyResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveAppKeyResponse {
            details: Some(
                apps::remove_key(&self.st, &ctx, &r.project_id, &r.app_id, &r.key_id).await?,
            ),
        })
    }

    // ---- projects granted to the context organisation ----

    async fn get_granted_project_by_id(
        &self,
        req: Request<GetGrantedProjectByIdRequest>,
    ) -> Res<GetGrantedProjectByIdResponse> {
        let (ctx, r) = split(req)?;
        let g = grants::get(&self.st, &ctx, Side::Granted, &r.project_id, &r.grant_id).await?;
        ok(GetGrantedProjectByIdResponse {
            granted_project: Some(g.to_pb()),
        })
    }

    async fn list_granted_projects(
        &self,
        req: Request<ListGrantedProjectsRequest>,
    ) -> Res<ListGrantedProjectsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) = grants::list_granted(&self.st, &ctx, page, &r.queries).await?;
        ok(ListGrantedProjectsResponse {
            details: list_details(total, pos),
            result: rows.iter().map(grants::GrantRow::to_pb).collect(),
        })
    }

    async fn list_granted_project_roles(
        &self,
        req: Request<ListGrantedProjectRolesRequest>,
    ) -> Res<ListGrantedProjectRolesResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = grants::list_granted_roles(
            &self.st,
            &ctx,
            &r.project_id,
            &r.grant_id,
            page,
            &r.queries,
        )
        .await?;
        ok(ListGrantedProjectRolesResponse {
            details: list_details(total, pos),
            result,
        })
    }

    // ---- project grants ----

    async fn get_project_grant_by_id(
        &self,
        req: Request<GetProjectGrantByIdRequest>,
    ) -> Res<GetProjectGrantByIdResponse> {
        let (ctx, r) = split(req)?;
        let g = grants::get(&self.st, &ctx, Side::Granting, &r.project_id, &r.grant_id).await?;
        ok(GetProjectGrantByIdResponse {
            project_grant: Some(g.to_pb()),
        })
    }

    async fn list_project_grants(
        &self,
        req: Request<ListProjectGrantsRequest>,
    ) -> Res<ListProjectGrantsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) =
            grants::list(&self.st, &ctx, &r.project_id, page, &r.queries).await?;
        ok(ListProjectGrantsResponse {
            details: list_details(total, pos),
            result: rows.iter().map(grants::GrantRow::to_pb).collect(),
        })
    }

    async fn add_project_grant(
        &self,
        req: Request<AddProjectGrantRequest>,
    ) -> Res<AddProjectGrantResponse> {
        let (ctx, r) = split(req)?;
        let (grant_id, d) = grants::add(
            &self.st,
            &ctx,
            &r.project_id,
            &r.granted_org_id,
            r.role_keys,
        )
        .await?;
        ok(AddProjectGrantResponse {
            grant_id,
            details: Some(d),
        })
    }

    async fn update_project_grant(
        &self,
        req: Request<UpdateProjectGrantRequest>,
    ) -> Res<UpdateProjectGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = grants::update(&self.st, &ctx, &r.project_id, &r.grant_id, r.role_keys).await?;
        ok(UpdateProjectGrantResponse { details: Some(d) })
    }

    async fn deactivate_project_grant(
        &self,
        req: Request<DeactivateProjectGrantRequest>,
    ) -> Res<DeactivateProjectGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = grants::deactivate(&self.st, &ctx, &r.project_id, &r.grant_id).await?;
        ok(DeactivateProjectGrantResponse { details: Some(d) })
    }

    async fn reactivate_project_grant(
        &self,
        req: Request<ReactivateProjectGrantRequest>,
    ) -> Res<ReactivateProjectGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = grants::reactivate(&self.st, &ctx, &r.project_id, &r.grant_id).await?;
        ok(ReactivateProjectGrantResponse { details: Some(d) })
    }

    async fn remove_project_grant(
        &self,
        req: Request<RemoveProjectGrantRequest>,
    ) -> Res<RemoveProjectGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = grants::remove(&self.st, &ctx, &r.project_id, &r.grant_id).await?;
        ok(RemoveProjectGrantResponse { details: Some(d) })
    }

    // ---- project grant members ----

    async fn list_project_grant_member_roles(
        &self,
        _: Request<ListProjectGrantMemberRolesRequest>,
    ) -> Res<ListProjectGrantMemberRolesResponse> {
        let result: Vec<String> = roles_of_level(Level::ProjectGrant)
            .into_iter()
            .map(str::to_string)
            .collect();
        ok(ListProjectGrantMemberRolesResponse {
            details: list_details(result.len() as i64, 0),
            result,
        })
    }

    async fn list_project_grant_members(
        &self,
        req: Request<ListProjectGrantMembersRequest>,
    ) -> Res<ListProjectGrantMembersResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = members::list(
            &self.st,
            &ctx,
            Scope::ProjectGrant(r.project_id, r.grant_id),
            page,
            &r.queries,
        )
        .await?;
        ok(ListProjectGrantMembersResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn add_project_grant_member(
        &self,
        req: Request<AddProjectGrantMemberRequest>,
    ) -> Res<AddProjectGrantMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::ProjectGrant(r.project_id, r.grant_id),
            &r.user_id,
            Some(r.roles),
            true,
        )
        .await?;
        ok(AddProjectGrantMemberResponse { details: Some(d) })
    }

    async fn update_project_grant_member(
        &self,
        req: Request<UpdateProjectGrantMemberRequest>,
    ) -> Res<UpdateProjectGrantMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::ProjectGrant(r.project_id, r.grant_id),
            &r.user_id,
            Some(r.roles),
            false,
        )
        .await?;
        ok(UpdateProjectGrantMemberResponse { details: Some(d) })
    }

    async fn remove_project_grant_member(
        &self,
        req: Request<RemoveProjectGrantMemberRequest>,
    ) -> Res<RemoveProjectGrantMemberResponse> {
        let (ctx, r) = split(req)?;
        let d = members::write(
            &self.st,
            &ctx,
            Scope::ProjectGrant(r.project_id, r.grant_id),
            &r.user_id,
            None,
            false,
        )
        .await?;
        ok(RemoveProjectGrantMemberResponse { details: Some(d) })
    }

    // ---- user grants ----

    async fn get_user_grant_by_id(
        &self,
        req: Request<GetUserGrantByIdRequest>,
    ) -> Res<GetUserGrantByIdResponse> {
        let (ctx, r) = split(req)?;
        let g = user_grants::get(&self.st, &ctx, &r.user_id, &r.grant_id).await?;
        ok(GetUserGrantByIdResponse {
            user_grant: Some(g.to_pb()),
        })
    }

    async fn list_user_grants(
        &self,
        req: Request<ListUserGrantRequest>,
    ) -> Res<ListUserGrantResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) = user_grants::list(&self.st, &ctx, page, &r.queries).await?;
        ok(ListUserGrantResponse {
            details: list_details(total, pos),
            result: rows.iter().map(user_grants::UserGrantRow::to_pb).collect(),
        })
    }

    async fn add_user_grant(&self, req: Request<AddUserGrantRequest>) -> Res<AddUserGrantResponse> {
        let (ctx, r) = split(req)?;
        let (user_grant_id, d) = user_grants::add(
            &self.st,
            &ctx,
            &r.user_id,
            &r.project_id,
            &r.project_grant_id,
            r.role_keys,
        )
        .await?;
        ok(AddUserGrantResponse {
            user_grant_id,
            details: Some(d),
        })
    }

    async fn update_user_grant(
        &self,
        req: Request<UpdateUserGrantRequest>,
    ) -> Res<UpdateUserGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = user_grants::update(&self.st, &ctx, &r.user_id, &r.grant_id, r.role_keys).await?;
        ok(UpdateUserGrantResponse { details: Some(d) })
    }

    async fn deactivate_user_grant(
        &self,
        req: Request<DeactivateUserGrantRequest>,
    ) -> Res<DeactivateUserGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = user_grants::deactivate(&self.st, &ctx, &r.user_id, &r.grant_id).await?;
        ok(DeactivateUserGrantResponse { details: Some(d) })
    }

    async fn reactivate_user_grant(
        &self,
        req: Request<ReactivateUserGrantRequest>,
    ) -> Res<ReactivateUserGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = user_grants::reactivate(&self.st, &ctx, &r.user_id, &r.grant_id).await?;
        ok(ReactivateUserGrantResponse { details: Some(d) })
    }

    async fn remove_user_grant(
        &self,
        req: Request<RemoveUserGrantRequest>,
    ) -> Res<RemoveUserGrantResponse> {
        let (ctx, r) = split(req)?;
        let d = user_grants::remove(&self.st, &ctx, &r.user_id, &r.grant_id).await?;
        ok(RemoveUserGrantResponse { details: Some(d) })
    }

    async fn bulk_remove_user_grant(
        &self,
        req: Request<BulkRemoveUserGrantRequest>,
    ) -> Res<BulkRemoveUserGrantResponse> {
        let (ctx, r) = split(req)?;
        user_grants::bulk_remove(&self.st, &ctx, r.grant_id).await?;
        ok(BulkRemoveUserGrantResponse {})
    }

    // ---- policies ----

    async fn get_login_policy(
        &self,
        req: Request<GetLoginPolicyRequest>,
    ) -> Res<GetLoginPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Login>(&self.st, &ctx).await?;
        let is_default = p.is_default;
        ok(GetLoginPolicyResponse {
            policy: Some(conv::login(p)),
            is_default,
        })
    }

    async fn get_default_login_policy(
        &self,
        req: Request<GetDefaultLoginPolicyRequest>,
    ) -> Res<GetDefaultLoginPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Login>(&self.st, &ctx).await?;
        ok(GetDefaultLoginPolicyResponse {
            policy: Some(conv::login(p)),
        })
    }

    async fn add_custom_login_policy(
        &self,
        req: Request<AddCustomLoginPolicyRequest>,
    ) -> Res<AddCustomLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let factors = (r.second_factors.clone(), r.multi_factors.clone());
        let mut s = conv::login_of!(r);
        (s.second_factors, s.multi_factors) = factors;
        ok(AddCustomLoginPolicyResponse {
            details: Some(pol::add_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn update_custom_login_policy(
        &self,
        req: Request<UpdateCustomLoginPolicyRequest>,
    ) -> Res<UpdateCustomLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::login_of!(r);
        ok(UpdateCustomLoginPolicyResponse {
            details: Some(pol::update_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn reset_login_policy_to_default(
        &self,
        req: Request<ResetLoginPolicyToDefaultRequest>,
    ) -> Res<ResetLoginPolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        ok(ResetLoginPolicyToDefaultResponse {
            details: Some(pol::reset::<Login>(&self.st, &ctx).await?),
        })
    }

    async fn list_login_policy_second_factors(
        &self,
        req: Request<ListLoginPolicySecondFactorsRequest>,
    ) -> Res<ListLoginPolicySecondFactorsResponse> {
        let (ctx, _) = split(req)?;
        let result = pol::factors(&self.st, &ctx, true, pol::Factors::Second).await?;
        ok(ListLoginPolicySecondFactorsResponse {
            details: conv::factor_details(result.len()),
            result,
        })
    }

    async fn add_second_factor_to_login_policy(
        &self,
        req: Request<AddSecondFactorToLoginPolicyRequest>,
    ) -> Res<AddSecondFactorToLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d =
            pol::change_factor(&self.st, &ctx, true, pol::Factors::Second, r.r#type, true).await?;
        ok(AddSecondFactorToLoginPolicyResponse { details: Some(d) })
    }

    async fn remove_second_factor_from_login_policy(
        &self,
        req: Request<RemoveSecondFactorFromLoginPolicyRequest>,
    ) -> Res<RemoveSecondFactorFromLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d =
            pol::change_factor(&self.st, &ctx, true, pol::Factors::Second, r.r#type, false).await?;
        ok(RemoveSecondFactorFromLoginPolicyResponse { details: Some(d) })
    }

    async fn list_login_policy_multi_factors(
        &self,
        req: Request<ListLoginPolicyMultiFactorsRequest>,
    ) -> Res<ListLoginPolicyMultiFactorsResponse> {
        let (ctx, _) = split(req)?;
        let result = pol::factors(&self.st, &ctx, true, pol::Factors::Multi).await?;
        ok(ListLoginPolicyMultiFactorsResponse {
            details: conv::factor_details(result.len()),
            result,
        })
    }

    async fn add_multi_factor_to_login_policy(
        &self,
        req: Request<AddMultiFactorToLoginPolicyRequest>,
    ) -> Res<AddMultiFactorToLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d =
            pol::change_factor(&self.st, &ctx, true, pol::Factors::Multi, r.r#type, true).await?;
        ok(AddMultiFactorToLoginPolicyResponse { details: Some(d) })
    }

    async fn remove_multi_factor_from_login_policy(
        &self,
        req: Request<RemoveMultiFactorFromLoginPolicyRequest>,
    ) -> Res<RemoveMultiFactorFromLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d =
            pol::change_factor(&self.st, &ctx, true, pol::Factors::Multi, r.r#type, false).await?;
        ok(RemoveMultiFactorFromLoginPolicyResponse { details: Some(d) })
    }

    async fn get_domain_policy(
        &self,
        req: Request<GetDomainPolicyRequest>,
    ) -> Res<GetDomainPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Domain>(&self.st, &ctx).await?;
        ok(GetDomainPolicyResponse {
            policy: Some(conv::domain(p)),
        })
    }

    async fn get_org_iam_policy(
        &self,
        req: Request<GetOrgIamPolicyRequest>,
    ) -> Res<GetOrgIamPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Domain>(&self.st, &ctx).await?;
        ok(GetOrgIamPolicyResponse {
            policy: Some(conv::org_iam(p)),
        })
    }

    async fn get_notification_policy(
        &self,
        req: Request<GetNotificationPolicyRequest>,
    ) -> Res<GetNotificationPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Notification>(&self.st, &ctx).await?;
        ok(GetNotificationPolicyResponse {
            policy: Some(conv::notification(p)),
        })
    }

    async fn get_default_notification_policy(
        &self,
        req: Request<GetDefaultNotificationPolicyRequest>,
    ) -> Res<GetDefaultNotificationPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Notification>(&self.st, &ctx).await?;
        ok(GetDefaultNotificationPolicyResponse {
            policy: Some(conv::notification(p)),
        })
    }

    async fn add_custom_notification_policy(
        &self,
        req: Request<AddCustomNotificationPolicyRequest>,
    ) -> Res<AddCustomNotificationPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = Notification {
            password_change: r.password_change,
        };
        let d = pol::add_custom(&self.st, &ctx, s).await?;
        ok(AddCustomNotificationPolicyResponse { details: Some(d) })
    }

    async fn update_custom_notification_policy(
        &self,
        req: Request<UpdateCustomNotificationPolicyRequest>,
    ) -> Res<UpdateCustomNotificationPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = Notification {
            password_change: r.password_change,
        };
        let d = pol::update_custom(&self.st, &ctx, s).await?;
        ok(UpdateCustomNotificationPolicyResponse { details: Some(d) })
    }

    async fn reset_notification_policy_to_default(
        &self,
        req: Request<ResetNotificationPolicyToDefaultRequest>,
    ) -> Res<ResetNotificationPolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        let d = pol::reset::<Notification>(&self.st, &ctx).await?;
        ok(ResetNotificationPolicyToDefaultResponse { details: Some(d) })
    }

    // ---- label policy ----

    async fn get_label_policy(
        &self,
        req: Request<GetLabelPolicyRequest>,
    ) -> Res<GetLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        let v = label::get(&self.st, &ctx, false, false).await?;
        let is_default = v.policy.is_default;
        ok(GetLabelPolicyResponse {
            policy: Some(conv::label(v)),
            is_default,
        })
    }

    async fn get_preview_label_policy(
        &self,
        req: Request<GetPreviewLabelPolicyRequest>,
    ) -> Res<GetPreviewLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        let v = label::get(&self.st, &ctx, false, true).await?;
        let is_default = v.policy.is_default;
        ok(GetPreviewLabelPolicyResponse {
            policy: Some(conv::label(v)),
            is_default,
        })
    }

    async fn get_default_label_policy(
        &self,
        req: Request<GetDefaultLabelPolicyRequest>,
    ) -> Res<GetDefaultLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        let v = label::get(&self.st, &ctx, true, false).await?;
        ok(GetDefaultLabelPolicyResponse {
            policy: Some(conv::label(v)),
        })
    }

    async fn add_custom_label_policy(
        &self,
        req: Request<AddCustomLabelPolicyRequest>,
    ) -> Res<AddCustomLabelPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::label_of!(r);
        ok(AddCustomLabelPolicyResponse {
            details: Some(label::add_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn update_custom_label_policy(
        &self,
        req: Request<UpdateCustomLabelPolicyRequest>,
    ) -> Res<UpdateCustomLabelPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::label_of!(r);
        ok(UpdateCustomLabelPolicyResponse {
            details: Some(label::update_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn activate_custom_label_policy(
        &self,
        req: Request<ActivateCustomLabelPolicyRequest>,
    ) -> Res<ActivateCustomLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(ActivateCustomLabelPolicyResponse {
            details: Some(label::activate(&self.st, &ctx, label::Scope::Org).await?),
        })
    }

    async fn remove_custom_label_policy_logo(
        &self,
        req: Request<RemoveCustomLabelPolicyLogoRequest>,
    ) -> Res<RemoveCustomLabelPolicyLogoResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Org, LabelSlot::Logo).await?;
        ok(RemoveCustomLabelPolicyLogoResponse { details: Some(d) })
    }

    async fn remove_custom_label_policy_logo_dark(
        &self,
        req: Request<RemoveCustomLabelPolicyLogoDarkRequest>,
    ) -> Res<RemoveCustomLabelPolicyLogoDarkResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Org, LabelSlot::LogoDark).await?;
        ok(RemoveCustomLabelPolicyLogoDarkResponse { details: Some(d) })
    }

    async fn remove_custom_label_policy_icon(
        &self,
        req: Request<RemoveCustomLabelPolicyIconRequest>,
    ) -> Res<RemoveCustomLabelPolicyIconResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Org, LabelSlot::Icon).await?;
        ok(RemoveCustomLabelPolicyIconResponse { details: Some(d) })
    }

    async fn remove_custom_label_policy_icon_dark(
        &self,
        req: Request<RemoveCustomLabelPolicyIconDarkRequest>,
    ) -> Res<RemoveCustomLabelPolicyIconDarkResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Org, LabelSlot::IconDark).await?;
        ok(RemoveCustomLabelPolicyIconDarkResponse { details: Some(d) })
    }

    async fn remove_custom_label_policy_font(
        &self,
        req: Request<RemoveCustomLabelPolicyFontRequest>,
    ) -> Res<RemoveCustomLabelPolicyFontResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Org, LabelSlot::Font).await?;
        ok(RemoveCustomLabelPolicyFontResponse { details: Some(d) })
    }

    async fn reset_label_policy_to_default(
        &self,
        req: Request<ResetLabelPolicyToDefaultRequest>,
    ) -> Res<ResetLabelPolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        ok(ResetLabelPolicyToDefaultResponse {
            details: Some(label::reset(&self.st, &ctx).await?),
        })
    }

    async fn get_password_complexity_policy(
        &self,
        req: Request<GetPasswordComplexityPolicyRequest>,
    ) -> Res<GetPasswordComplexityPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Complexity>(&self.st, &ctx).await?;
        let is_default = p.is_default;
        ok(GetPasswordComplexityPolicyResponse {
            policy: Some(conv::complexity(p)),
            is_default,
        })
    }

    async fn get_default_password_complexity_policy(
        &self,
        req: Request<GetDefaultPasswordComplexityPolicyRequest>,
    ) -> Res<GetDefaultPasswordComplexityPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Complexity>(&self.st, &ctx).await?;
        ok(GetDefaultPasswordComplexityPolicyResponse {
            policy: Some(conv::complexity(p)),
        })
    }

    async fn add_custom_password_complexity_policy(
        &self,
        req: Request<AddCustomPasswordComplexityPolicyRequest>,
    ) -> Res<AddCustomPasswordComplexityPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::complexity_of!(r);
        ok(AddCustomPasswordComplexityPolicyResponse {
            details: Some(pol::add_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn update_custom_password_complexity_policy(
        &self,
        req: Request<UpdateCustomPasswordComplexityPolicyRequest>,
    ) -> Res<UpdateCustomPasswordComplexityPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::complexity_of!(r);
        ok(UpdateCustomPasswordComplexityPolicyResponse {
            details: Some(pol::update_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn reset_password_complexity_policy_to_default(
        &self,
        req: Request<ResetPasswordComplexityPolicyToDefaultRequest>,
    ) -> Res<ResetPasswordComplexityPolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        ok(ResetPasswordComplexityPolicyToDefaultResponse {
            details: Some(pol::reset::<Complexity>(&self.st, &ctx).await?),
        })
    }

    async fn get_password_age_policy(
        &self,
        req: Request<GetPasswordAgePolicyRequest>,
    ) -> Res<GetPasswordAgePolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<PasswordAge>(&self.st, &ctx).await?;
        let is_default = p.is_default;
        ok(GetPasswordAgePolicyResponse {
            policy: Some(conv::age(p)),
            is_default,
        })
    }

    async fn get_default_password_age_policy(
        &self,
        req: Request<GetDefaultPasswordAgePolicyRequest>,
    ) -> Res<GetDefaultPasswordAgePolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<PasswordAge>(&self.st, &ctx).await?;
        ok(GetDefaultPasswordAgePolicyResponse {
            policy: Some(conv::age(p)),
        })
    }

    async fn add_custom_password_age_policy(
        &self,
        req: Request<AddCustomPasswordAgePolicyRequest>,
    ) -> Res<AddCustomPasswordAgePolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::age_of!(r);
        ok(AddCustomPasswordAgePolicyResponse {
            details: Some(pol::add_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn update_custom_password_age_policy(
        &self,
        req: Request<UpdateCustomPasswordAgePolicyRequest>,
    ) -> Res<UpdateCustomPasswordAgePolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::age_of!(r);
        ok(UpdateCustomPasswordAgePolicyResponse {
            details: Some(pol::update_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn reset_password_age_policy_to_default(
        &self,
        req: Request<ResetPasswordAgePolicyToDefaultRequest>,
    ) -> Res<ResetPasswordAgePolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        ok(ResetPasswordAgePolicyToDefaultResponse {
            details: Some(pol::reset::<PasswordAge>(&self.st, &ctx).await?),
        })
    }

    async fn get_lockout_policy(
        &self,
        req: Request<GetLockoutPolicyRequest>,
    ) -> Res<GetLockoutPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Lockout>(&self.st, &ctx).await?;
        let is_default = p.is_default;
        ok(GetLockoutPolicyResponse {
            policy: Some(conv::lockout(p)),
            is_default,
        })
    }

    async fn get_default_lockout_policy(
        &self,
        req: Request<GetDefaultLockoutPolicyRequest>,
    ) -> Res<GetDefaultLockoutPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Lockout>(&self.st, &ctx).await?;
        ok(GetDefaultLockoutPolicyResponse {
            policy: Some(conv::lockout(p)),
        })
    }

    async fn add_custom_lockout_policy(
        &self,
        req: Request<AddCustomLockoutPolicyRequest>,
    ) -> Res<AddCustomLockoutPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::lockout_of!(r);
        ok(AddCustomLockoutPolicyResponse {
            details: Some(pol::add_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn update_custom_lockout_policy(
        &self,
        req: Request<UpdateCustomLockoutPolicyRequest>,
    ) -> Res<UpdateCustomLockoutPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::lockout_of!(r);
        ok(UpdateCustomLockoutPolicyResponse {
            details: Some(pol::update_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn reset_lockout_policy_to_default(
        &self,
        req: Request<ResetLockoutPolicyToDefaultRequest>,
    ) -> Res<ResetLockoutPolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        ok(ResetLockoutPolicyToDefaultResponse {
            details: Some(pol::reset::<Lockout>(&self.st, &ctx).await?),
        })
    }

    async fn get_privacy_policy(
        &self,
        req: Request<GetPrivacyPolicyRequest>,
    ) -> Res<GetPrivacyPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get::<Privacy>(&self.st, &ctx).await?;

        ok(GetPrivacyPolicyResponse {
            policy: Some(conv::privacy(p)),
        })
    }

    async fn get_default_privacy_policy(
        &self,
        req: Request<GetDefaultPrivacyPolicyRequest>,
    ) -> Res<GetDefaultPrivacyPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Privacy>(&self.st, &ctx).await?;
        ok(GetDefaultPrivacyPolicyResponse {
            policy: Some(conv::privacy(p)),
        })
    }

    async fn add_custom_privacy_policy(
        &self,
        req: Request<AddCustomPrivacyPolicyRequest>,
    ) -> Res<AddCustomPrivacyPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::privacy_of!(r);
        ok(AddCustomPrivacyPolicyResponse {
            details: Some(pol::add_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn update_custom_privacy_policy(
        &self,
        req: Request<UpdateCustomPrivacyPolicyRequest>,
    ) -> Res<UpdateCustomPrivacyPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::privacy_of!(r);
        ok(UpdateCustomPrivacyPolicyResponse {
            details: Some(pol::update_custom(&self.st, &ctx, s).await?),
        })
    }

    async fn reset_privacy_policy_to_default(
        &self,
        req: Request<ResetPrivacyPolicyToDefaultRequest>,
    ) -> Res<ResetPrivacyPolicyToDefaultResponse> {
        let (ctx, _) = split(req)?;
        ok(ResetPrivacyPolicyToDefaultResponse {
            details: Some(pol::reset::<Privacy>(&self.st, &ctx).await?),
        })
    }
}

fn human_of(u: users::UserRow) -> Result<users::UserRow, tonic::Status> {
    if u.kind != castellan_store::projection::HUMAN {
        return Err(crate::error::ApiErr(castellan_domain::Error::precondition(
            "USER-hum4n",
            "Errors.User.NotHuman",
        ))
        .into());
    }
    Ok(u)
}

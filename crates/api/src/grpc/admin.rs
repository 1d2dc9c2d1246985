//! `zitadel.admin.v1.AdminService`: the instance.

use super::{ok, split, Res, Svc};
use crate::app::events::EventFilter;
use crate::app::members::Scope;
use crate::app::policies as pol;
use crate::app::users::{required, NewHuman};
use crate::app::{
    events, instance, label, members, oidc_settings, orgs, secret_generators, setup, smtp,
};
use crate::convert::{list_details, micros};
use crate::grpc::policies as conv;
use castellan_domain::assets::LabelSlot;
use castellan_domain::events::{Profile, AGGREGATE_TYPES, EVENT_TYPES};
use castellan_domain::password::Complexity;
use castellan_domain::policy::{Domain, Lockout, Login, Notification, PasswordAge, Privacy};
use castellan_domain::roles::{roles_of_level, Level};
use castellan_domain::secret_generator::GeneratorConfig;
use castellan_proto::zitadel::admin::v1::{admin_service_server::AdminService, *};
use castellan_proto::zitadel::event::v1::{AggregateType, EventType};
use castellan_proto::zitadel::settings::v1::{
    email_provider, secret_generator_query, EmailProvider, EmailProviderSmtp, SmtpConfig,
};
use castellan_proto::zitadel::v1::LocalizedMessage;
use tonic::{Request, Status};

// ExportData / ImportData.
use crate::app::{export, import};
use crate::error::ApiErr;

fn localized(s: &str) -> Option<LocalizedMessage> {
    Some(LocalizedMessage {
        key: s.to_string(),
        localized_message: s.to_string(),
    })
}

fn smtp_input(
    sender_address: String,
    sender_name: String,
    reply_to_address: String,
    tls: bool,
    host: String,
    user: String,
    description: String,
) -> smtp::SmtpInput {
    smtp::SmtpInput {
        sender_address,
        sender_name,
        reply_to_address,
        tls,
        host,
        user,
        description,
    }
}

/// An SMTP configuration under its newer name.
fn email_provider(c: SmtpConfig) -> EmailProvider {
    EmailProvider {
        details: c.details,
        id: c.id,
        state: c.state,
        description: c.description,
        config: Some(email_provider::Config::Smtp(EmailProviderSmtp {
            sender_address: c.sender_address,
            sender_name: c.sender_name,
            tls: c.tls,
            host: c.host,
            user: c.user,
            reply_to_address: c.reply_to_address,
        })),
    }
}

#[tonic::async_trait]
impl AdminService for Svc {
    async fn get_email_provider(
        &self,
        req: Request<GetEmailProviderRequest>,
    ) -> Res<GetEmailProviderResponse> {
        let (ctx, _) = split(req)?;
        ok(GetEmailProviderResponse {
            config: Some(email_provider(smtp::get_active(&self.st, &ctx).await?)),
        })
    }

    async fn get_email_provider_by_id(
        &self,
        req: Request<GetEmailProviderByIdRequest>,
    ) -> Res<GetEmailProviderByIdResponse> {
        let (ctx, r) = split(req)?;
        ok(GetEmailProviderByIdResponse {
            config: Some(email_provider(smtp::get(&self.st, &ctx, &r.id).await?)),
        })
    }

    async fn list_email_providers(
        &self,
        req: Request<ListEmailProvidersRequest>,
    ) -> Res<ListEmailProvidersResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = smtp::list(&self.st, &ctx, page).await?;
        ok(ListEmailProvidersResponse {
            details: list_details(total, pos),
            result: result.into_iter().map(email_provider).collect(),
        })
    }

    async fn add_email_provider_smtp(
        &self,
        req: Request<AddEmailProviderSmtpRequest>,
    ) -> Res<AddEmailProviderSmtpResponse> {
        let (ctx, r) = split(req)?;
        let input = smtp_input(
            r.sender_address,
            r.sender_name,
            r.reply_to_address,
            r.tls,
            r.host,
            r.user,
            r.description,
        );
        let (details, id) = smtp::add(&self.st, &ctx, &input, &r.password).await?;
        ok(AddEmailProviderSmtpResponse {
            details: Some(details),
            id,
        })
    }

    async fn update_email_provider_smtp(
        &self,
        req: Request<UpdateEmailProviderSmtpRequest>,
    ) -> Res<UpdateEmailProviderSmtpResponse> {
        let (ctx, r) = split(req)?;
        let input = smtp_input(
            r.sender_address,
            r.sender_name,
            r.reply_to_address,
            r.tls,
            r.host,
            r.user,
            r.description,
        );
        ok(UpdateEmailProviderSmtpResponse {
            details: Some(smtp::update(&self.st, &ctx, &r.id, &input, &r.password).await?),
        })
    }

    async fn update_email_provider_smtp_password(
        &self,
        req: Request<UpdateEmailProviderSmtpPasswordRequest>,
    ) -> Res<UpdateEmailProviderSmtpPasswordResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateEmailProviderSmtpPasswordResponse {
            details: Some(smtp::update_password(&self.st, &ctx, &r.id, &r.password).await?),
        })
    }

    async fn activate_email_provider(
        &self,
        req: Request<ActivateEmailProviderRequest>,
    ) -> Res<ActivateEmailProviderResponse> {
        let (ctx, r) = split(req)?;
        ok(ActivateEmailProviderResponse {
            details: Some(smtp::activate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn deactivate_email_provider(
        &self,
        req: Request<DeactivateEmailProviderRequest>,
    ) -> Res<DeactivateEmailProviderResponse> {
        let (ctx, r) = split(req)?;
        ok(DeactivateEmailProviderResponse {
            details: Some(smtp::deactivate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn remove_email_provider(
        &self,
        req: Request<RemoveEmailProviderRequest>,
    ) -> Res<RemoveEmailProviderResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveEmailProviderResponse {
            details: Some(smtp::remove(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn test_email_provider_smtp_by_id(
        &self,
        req: Request<TestEmailProviderSmtpByIdRequest>,
    ) -> Res<TestEmailProviderSmtpByIdResponse> {
        let (ctx, r) = split(req)?;
        smtp::test_by_id(&self.st, &ctx, &r.id, &r.receiver_address).await?;
        ok(TestEmailProviderSmtpByIdResponse {})
    }

    async fn test_email_provider_smtp(
        &self,
        req: Request<TestEmailProviderSmtpRequest>,
    ) -> Res<TestEmailProviderSmtpResponse> {
        let (ctx, r) = split(req)?;
        let input = smtp_input(
            r.sender_address,
            r.sender_name,
            String::new(),
            r.tls,
            r.host,
            r.user,
            String::new(),
        );
        smtp::test(
            &self.st,
            &ctx,
            &input,
            &r.password,
            &r.id,
            &r.receiver_address,
        )
        .await?;
        ok(TestEmailProviderSmtpResponse {})
    }

    async fn list_secret_generators(
        &self,
        req: Request<ListSecretGeneratorsRequest>,
    ) -> Res<ListSecretGeneratorsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let types: Vec<i32> = r
            .queries
            .iter()
            .filter_map(|q| {
                q.query
                    .as_ref()
                    .map(|secret_generator_query::Query::TypeQuery(t)| t.generator_type)
            })
            .collect();
        let (total, result) = secret_generators::list(&self.st, &ctx, page, &types).await?;
        ok(ListSecretGeneratorsResponse {
            details: list_details(total, 0),
            result,
        })
    }

    async fn get_secret_generator(
        &self,
        req: Request<GetSecretGeneratorRequest>,
    ) -> Res<GetSecretGeneratorResponse> {
        let (ctx, r) = split(req)?;
        ok(GetSecretGeneratorResponse {
            secret_generator: Some(secret_generators::get(&self.st, &ctx, r.generator_type).await?),
        })
    }

    async fn update_secret_generator(
        &self,
        req: Request<UpdateSecretGeneratorRequest>,
    ) -> Res<UpdateSecretGeneratorResponse> {
        let (ctx, r) = split(req)?;
        let cfg = GeneratorConfig {
            length: r.length,
            expiry_secs: r.expiry.map_or(0, |d| d.seconds),
            include_lower_letters: r.include_lower_letters,
            include_upper_letters: r.include_upper_letters,
            include_digits: r.include_digits,
            include_symbols: r.include_symbols,
        };
        ok(UpdateSecretGeneratorResponse {
            details: Some(secret_generators::update(&self.st, &ctx, r.generator_type, cfg).await?),
        })
    }

    async fn get_oidc_settings(
        &self,
        req: Request<GetOidcSettingsRequest>,
    ) -> Res<GetOidcSettingsResponse> {
        let (ctx, _) = split(req)?;
        ok(GetOidcSettingsResponse {
            settings: Some(oidc_settings::get(&self.st, &ctx).await?),
        })
    }

    async fn add_oidc_settings(
        &self,
        req: Request<AddOidcSettingsRequest>,
    ) -> Res<AddOidcSettingsResponse> {
        let (ctx, r) = split(req)?;
        let s = oidc_settings_of!(r)?;
        ok(AddOidcSettingsResponse {
            details: Some(oidc_settings::add(&self.st, &ctx, s).await?),
        })
    }

    async fn update_oidc_settings(
        &self,
        req: Request<UpdateOidcSettingsRequest>,
    ) -> Res<UpdateOidcSettingsResponse> {
        let (ctx, r) = split(req)?;
        let s = oidc_settings_of!(r)?;
        ok(UpdateOidcSettingsResponse {
            details: Some(oidc_settings::update(&self.st, &ctx, s).await?),
        })
    }

    async fn get_security_policy(
        &self,
        req: Request<GetSecurityPolicyRequest>,
    ) -> Res<GetSecurityPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(GetSecurityPolicyResponse {
            policy: Some(crate::app::security_policy::get(&self.st, &ctx).await?),
        })
    }

    async fn set_security_policy(
        &self,
        req: Request<SetSecurityPolicyRequest>,
    ) -> Res<SetSecurityPolicyResponse> {
        let (ctx, r) = split(req)?;
        let p = castellan_domain::security_policy::SecurityPolicy {
            enable_iframe_embedding: r.enable_iframe_embedding,
            allowed_origins: r.allowed_origins,
            enable_impersonation: r.enable_impersonation,
        };
        ok(SetSecurityPolicyResponse {
            details: Some(crate::app::security_policy::set(&self.st, &ctx, p).await?),
        })
    }

    async fn get_smtp_config(
        &self,
        req: Request<GetSmtpConfigRequest>,
    ) -> Res<GetSmtpConfigResponse> {
        let (ctx, _) = split(req)?;
        ok(GetSmtpConfigResponse {
            smtp_config: Some(smtp::get_active(&self.st, &ctx).await?),
        })
    }

    async fn get_smtp_config_by_id(
        &self,
        req: Request<GetSmtpConfigByIdRequest>,
    ) -> Res<GetSmtpConfigByIdResponse> {
        let (ctx, r) = split(req)?;
        ok(GetSmtpConfigByIdResponse {
            smtp_config: Some(smtp::get(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn list_smtp_configs(
        &self,
        req: Request<ListSmtpConfigsRequest>,
    ) -> Res<ListSmtpConfigsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) = smtp::list(&self.st, &ctx, page).await?;
        ok(ListSmtpConfigsResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn add_smtp_config(
        &self,
        req: Request<AddSmtpConfigRequest>,
    ) -> Res<AddSmtpConfigResponse> {
        let (ctx, r) = split(req)?;
        let input = smtp_input(
            r.sender_address,
            r.sender_name,
            r.reply_to_address,
            r.tls,
            r.host,
            r.user,
            r.description,
        );
        let (details, id) = smtp::add(&self.st, &ctx, &input, &r.password).await?;
        ok(AddSmtpConfigResponse {
            details: Some(details),
            id,
        })
    }

    async fn update_smtp_config(
        &self,
        req: Request<UpdateSmtpConfigRequest>,
    ) -> Res<UpdateSmtpConfigResponse> {
        let (ctx, r) = split(req)?;
        let input = smtp_input(
            r.sender_address,
            r.sender_name,
            r.reply_to_address,
            r.tls,
            r.host,
            r.user,
            r.description,
        );
        ok(UpdateSmtpConfigResponse {
            details: Some(smtp::update(&self.st, &ctx, &r.id, &input, &r.password).await?),
        })
    }

    async fn update_smtp_config_password(
        &self,
        req: Request<UpdateSmtpConfigPasswordRequest>,
    ) -> Res<UpdateSmtpConfigPasswordResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateSmtpConfigPasswordResponse {
            details: Some(smtp::update_password(&self.st, &ctx, &r.id, &r.password).await?),
        })
    }

    async fn activate_smtp_config(
        &self,
        req: Request<ActivateSmtpConfigRequest>,
    ) -> Res<ActivateSmtpConfigResponse> {
        let (ctx, r) = split(req)?;
        ok(ActivateSmtpConfigResponse {
            details: Some(smtp::activate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn deactivate_smtp_config(
        &self,
        req: Request<DeactivateSmtpConfigRequest>,
    ) -> Res<DeactivateSmtpConfigResponse> {
        let (ctx, r) = split(req)?;
        ok(DeactivateSmtpConfigResponse {
            details: Some(smtp::deactivate(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn remove_smtp_config(
        &self,
        req: Request<RemoveSmtpConfigRequest>,
    ) -> Res<RemoveSmtpConfigResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveSmtpConfigResponse {
            details: Some(smtp::remove(&self.st, &ctx, &r.id).await?),
        })
    }

    async fn test_smtp_config_by_id(
        &self,
        req: Request<TestSmtpConfigByIdRequest>,
    ) -> Res<TestSmtpConfigByIdResponse> {
        let (ctx, r) = split(req)?;
        smtp::test_by_id(&self.st, &ctx, &r.id, &r.receiver_address).await?;
        ok(TestSmtpConfigByIdResponse {})
    }

    async fn test_smtp_config(
        &self,
        req: Request<TestSmtpConfigRequest>,
    ) -> Res<TestSmtpConfigResponse> {
        let (ctx, r) = split(req)?;
        let input = smtp_input(
            r.sender_address,
            r.sender_name,
            String::new(),
            r.tls,
            r.host,
            r.user,
            String::new(),
        );
        smtp::test(
            &self.st,
            &ctx,
            &input,
            &r.password,
            &r.id,
            &r.receiver_address,
        )
        .await?;
        ok(TestSmtpConfigResponse {})
    }

    async fn healthz(&self, _: Request<HealthzRequest>) -> Res<HealthzResponse> {
        ok(HealthzResponse {})
    }

    async fn is_org_unique(&self, req: Request<IsOrgUniqueRequest>) -> Res<IsOrgUniqueResponse> {
        let (ctx, r) = split(req)?;
        ok(IsOrgUniqueResponse {
            is_unique: orgs::is_unique(&self.st, &ctx, &r.name, &r.domain).await?,
        })
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

    async fn get_allowed_languages(
        &self,
        _: Request<GetAllowedLanguagesRequest>,
    ) -> Res<GetAllowedLanguagesResponse> {
        ok(GetAllowedLanguagesResponse {
            languages: instance::SUPPORTED_LANGUAGES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        })
    }

    async fn get_default_language(
        &self,
        req: Request<GetDefaultLanguageRequest>,
    ) -> Res<GetDefaultLanguageResponse> {
        let (ctx, _) = split(req)?;
        ok(GetDefaultLanguageResponse {
            language: instance::default_language(&self.st, &ctx).await?,
        })
    }

    async fn set_default_language(
        &self,
        req: Request<SetDefaultLanguageRequest>,
    ) -> Res<SetDefaultLanguageResponse> {
        let (ctx, r) = split(req)?;
        ok(SetDefaultLanguageResponse {
            details: Some(instance::set_default_language(&self.st, &ctx, &r.language).await?),
        })
    }

    async fn get_my_instance(
        &self,
        req: Request<GetMyInstanceRequest>,
    ) -> Res<GetMyInstanceResponse> {
        let (ctx, _) = split(req)?;
        ok(GetMyInstanceResponse {
            instance: Some(instance::get(&self.st, &ctx).await?),
        })
    }

    async fn list_instance_domains(
        &self,
        req: Request<ListInstanceDomainsRequest>,
    ) -> Res<ListInstanceDomainsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            instance::list_domains(&self.st, &ctx, page, r.sorting_column, &r.queries).await?;
        ok(ListInstanceDomainsResponse {
            details: list_details(total, pos),
            sorting_column: r.sorting_column,
            result,
        })
    }

    async fn list_instance_trusted_domains(
        &self,
        req: Request<ListInstanceTrustedDomainsRequest>,
    ) -> Res<ListInstanceTrustedDomainsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            instance::list_trusted_domains(&self.st, &ctx, page, r.sorting_column, &r.queries)
                .await?;
        ok(ListInstanceTrustedDomainsResponse {
            details: list_details(total, pos),
            sorting_column: r.sorting_column,
            result,
        })
    }

    async fn add_instance_trusted_domain(
        &self,
        req: Request<AddInstanceTrustedDomainRequest>,
    ) -> Res<AddInstanceTrustedDomainResponse> {
        let (ctx, r) = split(req)?;
        ok(AddInstanceTrustedDomainResponse {
            details: Some(instance::add_trusted_domain(&self.st, &ctx, &r.domain).await?),
        })
    }

    async fn remove_instance_trusted_domain(
        &self,
        req: Request<RemoveInstanceTrustedDomainRequest>,
    ) -> Res<RemoveInstanceTrustedDomainResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveInstanceTrustedDomainResponse {
            details: Some(instance::remove_trusted_domain(&self.st, &ctx, &r.domain).await?),
        })
    }

    async fn get_org_by_id(&self, req: Request<GetOrgByIdRequest>) -> Res<GetOrgByIdResponse> {
        let (ctx, r) = split(req)?;
        ok(GetOrgByIdResponse {
            org: Some(orgs::get(&self.st, &ctx.instance_id, &r.id).await?.to_pb()),
        })
    }

    async fn list_orgs(&self, req: Request<ListOrgsRequest>) -> Res<ListOrgsResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, rows) =
            orgs::list(&self.st, &ctx, page, r.sorting_column, &r.queries).await?;
        ok(ListOrgsResponse {
            details: list_details(total, pos),
            sorting_column: r.sorting_column,
            result: rows.iter().map(|o| o.to_pb()).collect(),
        })
    }

    async fn set_up_org(&self, req: Request<SetUpOrgRequest>) -> Res<SetUpOrgResponse> {
        let (ctx, r) = split(req)?;
        let org = required(r.org, "org")?;
        let set_up_org_request::User::Human(h) = required(r.user, "user")?;
        let p = required(h.profile, "user.human.profile")?;
        let e = required(h.email, "user.human.email")?;
        let ph = h.phone.unwrap_or_default();
        let human = NewHuman {
            username: h.user_name,
            profile: Profile {
                first_name: p.first_name,
                last_name: p.last_name,
                nick_name: p.nick_name,
                display_name: p.display_name,
                preferred_language: p.preferred_language,
                gender: p.gender,
            },
            email: e.email,
            email_verified: e.is_email_verified,
            phone: ph.phone,
            phone_verified: ph.is_phone_verified,
            password: h.password,
            ..Default::default()
        };
        let (org_id, user_id, details) =
            setup::setup_org(&self.st, &ctx, &org.name, human, r.roles).await?;
        ok(SetUpOrgResponse {
            details: Some(details),
            org_id,
            user_id,
        })
    }

    async fn get_default_org(
        &self,
        req: Request<GetDefaultOrgRequest>,
    ) -> Res<GetDefaultOrgResponse> {
        let (ctx, _) = split(req)?;
        ok(GetDefaultOrgResponse {
            org: Some(orgs::default_org(&self.st, &ctx).await?.to_pb()),
        })
    }

    async fn set_default_org(
        &self,
        req: Request<SetDefaultOrgRequest>,
    ) -> Res<SetDefaultOrgResponse> {
        let (ctx, r) = split(req)?;
        ok(SetDefaultOrgResponse {
            details: Some(orgs::set_default(&self.st, &ctx, &r.org_id).await?),
        })
    }

    async fn list_iam_member_roles(
        &self,
        _: Request<ListIamMemberRolesRequest>,
    ) -> Res<ListIamMemberRolesResponse> {
        let roles: Vec<String> = roles_of_level(Level::Instance)
            .into_iter()
            .map(str::to_string)
            .collect();
        ok(ListIamMemberRolesResponse {
            details: list_details(roles.len() as i64, 0),
            roles,
        })
    }

    async fn list_iam_members(
        &self,
        req: Request<ListIamMembersRequest>,
    ) -> Res<ListIamMembersResponse> {
        let (ctx, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            members::list(&self.st, &ctx, Scope::Instance, page, &r.queries).await?;
        ok(ListIamMembersResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn export_data(&self, req: Request<ExportDataRequest>) -> Res<ExportDataResponse> {
        let (ctx, r) = split(req)?;
        let outputs = [
            (r.local_output.is_some(), "localOutput"),
            (r.s3_output.is_some(), "s3Output"),
            (r.gcs_output.is_some(), "gcsOutput"),
        ];
        if let Some((_, field)) = outputs.iter().find(|(set, _)| *set) {
            return Err(ApiErr(import::unsupported(field)).into());
        }
        let opts = export::Options {
            org_ids: r.org_ids,
            excluded_org_ids: r.excluded_org_ids,
            with_passwords: r.with_passwords,
        };
        ok(ExportDataResponse {
            orgs: export::export(&self.st, &ctx, opts).await?,
        })
    }

    async fn import_data(&self, req: Request<ImportDataRequest>) -> Res<ImportDataResponse> {
        use import_data_request::Data;
        let (ctx, r) = split(req)?;
        let field = match r.data {
            Some(Data::DataOrgs(d)) => {
                let timeout = import::go_duration(&r.timeout)?;
                return ok(import::import(&self.st, &ctx, d.orgs, timeout).await?);
            }
            None => return Err(ApiErr(import::missing_data()).into()),
            Some(Data::DataOrgsv1(_)) => "dataOrgsv1",
            Some(Data::DataOrgsLocal(_)) => "dataOrgsLocal",
            Some(Data::DataOrgsv1Local(_)) => "dataOrgsv1Local",
            Some(Data::DataOrgsS3(_)) => "dataOrgsS3",
            Some(Data::DataOrgsv1S3(_)) => "dataOrgsv1S3",
            Some(Data::DataOrgsGcs(_)) => "dataOrgsGcs",
            Some(Data::DataOrgsv1Gcs(_)) => "dataOrgsv1Gcs",
        };
        Err(ApiErr(import::unsupported(field)).into())
    }

    async fn add_iam_member(&self, req: Request<AddIamMemberRequest>) -> Res<AddIamMemberResponse> {
        let (ctx, r) = split(req)?;
        ok(AddIamMemberResponse {
            details: Some(
                members::write(
                    &self.st,
                    &ctx,
                    Scope::Instance,
                    &r.user_id,
                    Some(r.roles),
                    true,
                )
                .await?,
            ),
        })
    }

    async fn update_iam_member(
        &self,
        req: Request<UpdateIamMemberRequest>,
    ) -> Res<UpdateIamMemberResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateIamMemberResponse {
            details: Some(
                members::write(
                    &self.st,
                    &ctx,
                    Scope::Instance,
                    &r.user_id,
                    Some(r.roles),
                    false,
                )
                .await?,
            ),
        })
    }

    async fn remove_iam_member(
        &self,
        req: Request<RemoveIamMemberRequest>,
    ) -> Res<RemoveIamMemberResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveIamMemberResponse {
            details: Some(
                members::write(&self.st, &ctx, Scope::Instance, &r.user_id, None, false).await?,
            ),
        })
    }

    async fn list_events(&self, req: Request<ListEventsRequest>) -> Res<ListEventsResponse> {
        let (ctx, r) = split(req)?;
        #[allow(deprecated)]
        let legacy_from = r.creation_date.as_ref().map(micros);
        let (since, until) = match &r.creation_date_filter {
            Some(list_events_request::CreationDateFilter::Range(x)) => {
                (x.since.as_ref().map(micros), x.until.as_ref().map(micros))
            }
            Some(list_events_request::CreationDateFilter::From(t)) => (Some(micros(t)), None),
            None => (legacy_from, None),
        };
        let f = EventFilter {
            after_position: r.sequence.min(i64::MAX as u64) as i64,
            limit: u64::from(r.limit),
            asc: r.asc,
            editor: r.editor_user_id,
            event_types: r.event_types,
            aggregate_id: r.aggregate_id,
            aggregate_types: r.aggregate_types,
            resource_owner: r.resource_owner,
            since,
            until,
        };
        ok(ListEventsResponse {
            events: events::list(&self.st, &ctx, f).await?,
        })
    }

    async fn list_event_types(
        &self,
        _: Request<ListEventTypesRequest>,
    ) -> Res<ListEventTypesResponse> {
        ok(ListEventTypesResponse {
            event_types: EVENT_TYPES
                .iter()
                .map(|t| EventType {
                    r#type: t.to_string(),
                    localized: localized(t),
                })
                .collect(),
        })
    }

    async fn list_aggregate_types(
        &self,
        _: Request<ListAggregateTypesRequest>,
    ) -> Res<ListAggregateTypesResponse> {
        ok(ListAggregateTypesResponse {
            aggregate_types: AGGREGATE_TYPES
                .iter()
                .map(|t| AggregateType {
                    r#type: t.to_string(),
                    localized: localized(t),
                })
                .collect(),
        })
    }

    // ---- policies ----

    async fn get_login_policy(
        &self,
        req: Request<GetLoginPolicyRequest>,
    ) -> Res<GetLoginPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Login>(&self.st, &ctx).await?;
        ok(GetLoginPolicyResponse {
            policy: Some(conv::login(p)),
        })
    }

    async fn update_login_policy(
        &self,
        req: Request<UpdateLoginPolicyRequest>,
    ) -> Res<UpdateLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::login_of!(r);
        ok(UpdateLoginPolicyResponse {
            details: Some(pol::set_default(&self.st, &ctx, s).await?),
        })
    }

    async fn list_login_policy_second_factors(
        &self,
        req: Request<ListLoginPolicySecondFactorsRequest>,
    ) -> Res<ListLoginPolicySecondFactorsResponse> {
        let (ctx, _) = split(req)?;
        let result = pol::factors(&self.st, &ctx, false, pol::Factors::Second).await?;
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
            pol::change_factor(&self.st, &ctx, false, pol::Factors::Second, r.r#type, true).await?;
        ok(AddSecondFactorToLoginPolicyResponse { details: Some(d) })
    }

    async fn remove_second_factor_from_login_policy(
        &self,
        req: Request<RemoveSecondFactorFromLoginPolicyRequest>,
    ) -> Res<RemoveSecondFactorFromLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d = pol::change_factor(&self.st, &ctx, false, pol::Factors::Second, r.r#type, false)
            .await?;
        ok(RemoveSecondFactorFromLoginPolicyResponse { details: Some(d) })
    }

    async fn list_login_policy_multi_factors(
        &self,
        req: Request<ListLoginPolicyMultiFactorsRequest>,
    ) -> Res<ListLoginPolicyMultiFactorsResponse> {
        let (ctx, _) = split(req)?;
        let result = pol::factors(&self.st, &ctx, false, pol::Factors::Multi).await?;
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
            pol::change_factor(&self.st, &ctx, false, pol::Factors::Multi, r.r#type, true).await?;
        ok(AddMultiFactorToLoginPolicyResponse { details: Some(d) })
    }

    async fn remove_multi_factor_from_login_policy(
        &self,
        req: Request<RemoveMultiFactorFromLoginPolicyRequest>,
    ) -> Res<RemoveMultiFactorFromLoginPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d =
            pol::change_factor(&self.st, &ctx, false, pol::Factors::Multi, r.r#type, false).await?;
        ok(RemoveMultiFactorFromLoginPolicyResponse { details: Some(d) })
    }

    async fn get_domain_policy(
        &self,
        req: Request<GetDomainPolicyRequest>,
    ) -> Res<GetDomainPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Domain>(&self.st, &ctx).await?;
        ok(GetDomainPolicyResponse {
            policy: Some(conv::domain(p)),
        })
    }

    async fn update_domain_policy(
        &self,
        req: Request<UpdateDomainPolicyRequest>,
    ) -> Res<UpdateDomainPolicyResponse> {
        let (ctx, r) = split(req)?;
        let d = pol::set_default(&self.st, &ctx, conv::domain_of!(r)).await?;
        ok(UpdateDomainPolicyResponse { details: Some(d) })
    }

    async fn get_custom_domain_policy(
        &self,
        req: Request<GetCustomDomainPolicyRequest>,
    ) -> Res<GetCustomDomainPolicyResponse> {
        let (ctx, r) = split(req)?;
        let ctx = pol::for_org(&ctx, &r.org_id)?;
        crate::app::orgs::get(&self.st, &ctx.instance_id, &ctx.org_id).await?;
        let p = pol::get::<Domain>(&self.st, &ctx).await?;
        ok(GetCustomDomainPolicyResponse {
            is_default: p.is_default,
            policy: Some(conv::domain(p)),
        })
    }

    async fn add_custom_domain_policy(
        &self,
        req: Request<AddCustomDomainPolicyRequest>,
    ) -> Res<AddCustomDomainPolicyResponse> {
        let (ctx, r) = split(req)?;
        let ctx = pol::for_org(&ctx, &r.org_id)?;
        let d = pol::add_custom(&self.st, &ctx, conv::domain_of!(r)).await?;
        ok(AddCustomDomainPolicyResponse { details: Some(d) })
    }

    async fn update_custom_domain_policy(
        &self,
        req: Request<UpdateCustomDomainPolicyRequest>,
    ) -> Res<UpdateCustomDomainPolicyResponse> {
        let (ctx, r) = split(req)?;
        let ctx = pol::for_org(&ctx, &r.org_id)?;
        let d = pol::update_custom(&self.st, &ctx, conv::domain_of!(r)).await?;
        ok(UpdateCustomDomainPolicyResponse { details: Some(d) })
    }

    async fn reset_custom_domain_policy_to_default(
        &self,
        req: Request<ResetCustomDomainPolicyToDefaultRequest>,
    ) -> Res<ResetCustomDomainPolicyToDefaultResponse> {
        let (ctx, r) = split(req)?;
        let ctx = pol::for_org(&ctx, &r.org_id)?;
        let d = pol::reset::<Domain>(&self.st, &ctx).await?;
        ok(ResetCustomDomainPolicyToDefaultResponse { details: Some(d) })
    }

    async fn get_notification_policy(
        &self,
        req: Request<GetNotificationPolicyRequest>,
    ) -> Res<GetNotificationPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Notification>(&self.st, &ctx).await?;
        ok(GetNotificationPolicyResponse {
            policy: Some(conv::notification(p)),
        })
    }

    async fn add_notification_policy(
        &self,
        req: Request<AddNotificationPolicyRequest>,
    ) -> Res<AddNotificationPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = Notification {
            password_change: r.password_change,
        };
        let d = pol::add_default(&self.st, &ctx, s).await?;
        ok(AddNotificationPolicyResponse { details: Some(d) })
    }

    async fn update_notification_policy(
        &self,
        req: Request<UpdateNotificationPolicyRequest>,
    ) -> Res<UpdateNotificationPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = Notification {
            password_change: r.password_change,
        };
        let d = pol::set_default(&self.st, &ctx, s).await?;
        ok(UpdateNotificationPolicyResponse { details: Some(d) })
    }

    // ---- label policy ----

    async fn get_label_policy(
        &self,
        req: Request<GetLabelPolicyRequest>,
    ) -> Res<GetLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        let v = label::get(&self.st, &ctx, true, false).await?;
        ok(GetLabelPolicyResponse {
            policy: Some(conv::label(v)),
        })
    }

    async fn get_preview_label_policy(
        &self,
        req: Request<GetPreviewLabelPolicyRequest>,
    ) -> Res<GetPreviewLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        let v = label::get(&self.st, &ctx, true, true).await?;
        ok(GetPreviewLabelPolicyResponse {
            policy: Some(conv::label(v)),
        })
    }

    async fn update_label_policy(
        &self,
        req: Request<UpdateLabelPolicyRequest>,
    ) -> Res<UpdateLabelPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::label_of!(r);
        ok(UpdateLabelPolicyResponse {
            details: Some(label::update_default(&self.st, &ctx, s).await?),
        })
    }

    async fn activate_label_policy(
        &self,
        req: Request<ActivateLabelPolicyRequest>,
    ) -> Res<ActivateLabelPolicyResponse> {
        let (ctx, _) = split(req)?;
        ok(ActivateLabelPolicyResponse {
            details: Some(label::activate(&self.st, &ctx, label::Scope::Instance).await?),
        })
    }

    async fn remove_label_policy_logo(
        &self,
        req: Request<RemoveLabelPolicyLogoRequest>,
    ) -> Res<RemoveLabelPolicyLogoResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Instance, LabelSlot::Logo).await?;
        ok(RemoveLabelPolicyLogoResponse { details: Some(d) })
    }

    async fn remove_label_policy_logo_dark(
        &self,
        req: Request<RemoveLabelPolicyLogoDarkRequest>,
    ) -> Res<RemoveLabelPolicyLogoDarkResponse> {
        let (ctx, _) = split(req)?;
        let d =
            label::remove_file(&self.st, &ctx, label::Scope::Instance, LabelSlot::LogoDark).await?;
        ok(RemoveLabelPolicyLogoDarkResponse { details: Some(d) })
    }

    async fn remove_label_policy_icon(
        &self,
        req: Request<RemoveLabelPolicyIconRequest>,
    ) -> Res<RemoveLabelPolicyIconResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Instance, LabelSlot::Icon).await?;
        ok(RemoveLabelPolicyIconResponse { details: Some(d) })
    }

    async fn remove_label_policy_icon_dark(
        &self,
        req: Request<RemoveLabelPolicyIconDarkRequest>,
    ) -> Res<RemoveLabelPolicyIconDarkResponse> {
        let (ctx, _) = split(req)?;
        let d =
            label::remove_file(&self.st, &ctx, label::Scope::Instance, LabelSlot::IconDark).await?;
        ok(RemoveLabelPolicyIconDarkResponse { details: Some(d) })
    }

    async fn remove_label_policy_font(
        &self,
        req: Request<RemoveLabelPolicyFontRequest>,
    ) -> Res<RemoveLabelPolicyFontResponse> {
        let (ctx, _) = split(req)?;
        let d = label::remove_file(&self.st, &ctx, label::Scope::Instance, LabelSlot::Font).await?;
        ok(RemoveLabelPolicyFontResponse { details: Some(d) })
    }

    async fn get_password_complexity_policy(
        &self,
        req: Request<GetPasswordComplexityPolicyRequest>,
    ) -> Res<GetPasswordComplexityPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Complexity>(&self.st, &ctx).await?;
        ok(GetPasswordComplexityPolicyResponse {
            policy: Some(conv::complexity(p)),
        })
    }

    async fn update_password_complexity_policy(
        &self,
        req: Request<UpdatePasswordComplexityPolicyRequest>,
    ) -> Res<UpdatePasswordComplexityPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::complexity_of!(r);
        ok(UpdatePasswordComplexityPolicyResponse {
            details: Some(pol::set_default(&self.st, &ctx, s).await?),
        })
    }

    async fn get_password_age_policy(
        &self,
        req: Request<GetPasswordAgePolicyRequest>,
    ) -> Res<GetPasswordAgePolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<PasswordAge>(&self.st, &ctx).await?;
        ok(GetPasswordAgePolicyResponse {
            policy: Some(conv::age(p)),
        })
    }

    async fn update_password_age_policy(
        &self,
        req: Request<UpdatePasswordAgePolicyRequest>,
    ) -> Res<UpdatePasswordAgePolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::age_of!(r);
        ok(UpdatePasswordAgePolicyResponse {
            details: Some(pol::set_default(&self.st, &ctx, s).await?),
        })
    }

    async fn get_lockout_policy(
        &self,
        req: Request<GetLockoutPolicyRequest>,
    ) -> Res<GetLockoutPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Lockout>(&self.st, &ctx).await?;
        ok(GetLockoutPolicyResponse {
            policy: Some(conv::lockout(p)),
        })
    }

    async fn update_lockout_policy(
        &self,
        req: Request<UpdateLockoutPolicyRequest>,
    ) -> Res<UpdateLockoutPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::lockout_of!(r);
        ok(UpdateLockoutPolicyResponse {
            details: Some(pol::set_default(&self.st, &ctx, s).await?),
        })
    }

    async fn get_privacy_policy(
        &self,
        req: Request<GetPrivacyPolicyRequest>,
    ) -> Res<GetPrivacyPolicyResponse> {
        let (ctx, _) = split(req)?;
        let p = pol::get_default::<Privacy>(&self.st, &ctx).await?;
        ok(GetPrivacyPolicyResponse {
            policy: Some(conv::privacy(p)),
        })
    }

    async fn update_privacy_policy(
        &self,
        req: Request<UpdatePrivacyPolicyRequest>,
    ) -> Res<UpdatePrivacyPolicyResponse> {
        let (ctx, r) = split(req)?;
        let s = conv::privacy_of!(r);
        ok(UpdatePrivacyPolicyResponse {
            details: Some(pol::set_default(&self.st, &ctx, s).await?),
        })
    }
}

/// The settings of an Add/Update request: four durations (a missing one is zero, which
/// validation refuses naming the field) and the extensions.
/// The settings of an Add or an Update OIDC settings request (both carry the same fields).
macro_rules! oidc_settings_of {
    ($r:expr) => {{
        let r = $r;
        oidc_settings_from(
            [
                ("access_token_lifetime", r.access_token_lifetime),
                ("id_token_lifetime", r.id_token_lifetime),
                (
                    "refresh_token_idle_expiration",
                    r.refresh_token_idle_expiration,
                ),
                ("refresh_token_expiration", r.refresh_token_expiration),
            ],
            r.flat_roles_claim,
            r.token_exchange_enabled,
            r.pkce_plain_allowed,
        )
    }};
}
use oidc_settings_of;

fn oidc_settings_from(
    d: [(&str, Option<prost_types::Duration>); 4],
    flat_roles_claim: bool,
    token_exchange_enabled: bool,
    pkce_plain_allowed: bool,
) -> Result<castellan_domain::oidc_settings::OidcSettings, Status> {
    let mut out = [std::time::Duration::ZERO; 4];
    for (slot, (name, v)) in out.iter_mut().zip(d) {
        let v = v.unwrap_or_default();
        *slot = castellan_domain::oidc_settings::duration_of(name, v.seconds, v.nanos)
            .map_err(|e| Status::from(ApiErr(e)))?;
    }
    Ok(castellan_domain::oidc_settings::OidcSettings {
        access_token_lifetime: out[0],
        id_token_lifetime: out[1],
        refresh_token_idle_expiration: out[2],
        refresh_token_expiration: out[3],
        flat_roles_claim,
        token_exchange_enabled,
        pkce_plain_allowed,
    })
}

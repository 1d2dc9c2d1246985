//! `zitadel.system.v1.SystemService`: every instance of the installation, for system users.

use super::{ok, split, Res, Svc};
use crate::app::instances::{self, InstanceInput, MachineOwner, OwnerInput};
use crate::app::members::{self, Scope};
use crate::app::{instance, tokens};
use crate::convert::list_details;
use crate::error::invalid;
use castellan_proto::zitadel::system::v1::{system_service_server::SystemService, *};
use tonic::Request;

#[tonic::async_trait]
impl SystemService for Svc {
    async fn healthz(&self, _: Request<HealthzRequest>) -> Res<HealthzResponse> {
        ok(HealthzResponse {})
    }

    async fn list_instances(
        &self,
        req: Request<ListInstancesRequest>,
    ) -> Res<ListInstancesResponse> {
        let (_, r) = split(req)?;
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            instances::list(&self.st, page, r.sorting_column, &r.queries).await?;
        ok(ListInstancesResponse {
            details: list_details(total, pos),
            sorting_column: r.sorting_column,
            result,
        })
    }

    async fn get_instance(&self, req: Request<GetInstanceRequest>) -> Res<GetInstanceResponse> {
        let (ctx, r) = split(req)?;
        instances::exists(&self.st, &r.instance_id).await?;
        let ctx = instances::on_instance(&ctx, &r.instance_id);
        ok(GetInstanceResponse {
            instance: Some(instance::get(&self.st, &ctx).await?),
        })
    }

    async fn add_instance(&self, req: Request<AddInstanceRequest>) -> Res<AddInstanceResponse> {
        let (ctx, r) = split(req)?;
        let email = r
            .owner_email
            .ok_or_else(|| invalid("ownerEmail is required"))?;
        let profile = r.owner_profile.unwrap_or_default();
        let password = r.owner_password.unwrap_or_default();
        let spec = instances::spec(
            &self.st,
            InstanceInput {
                name: r.instance_name,
                org_name: r.first_org_name,
                custom_domain: r.custom_domain,
                default_language: r.default_language,
                human: Some(OwnerInput {
                    username: r.owner_user_name,
                    email: email.email,
                    email_verified: email.is_email_verified,
                    first_name: profile.first_name,
                    last_name: profile.last_name,
                    preferred_language: profile.preferred_language,
                    password: password.password,
                    password_change_required: password.password_change_required,
                }),
                machine: None,
            },
        )
        .await?;
        let c = instances::create(&self.st, &ctx.caller()?.user_id, spec).await?;
        ok(AddInstanceResponse {
            instance_id: c.instance_id,
            details: Some(c.details),
        })
    }

    async fn create_instance(
        &self,
        req: Request<CreateInstanceRequest>,
    ) -> Res<CreateInstanceResponse> {
        use create_instance_request::Owner;
        let (ctx, r) = split(req)?;
        let (human, machine) = match r.owner {
            None => return Err(invalid("owner (human or machine) is required").into()),
            Some(Owner::Human(h)) => {
                let email = h.email.ok_or_else(|| invalid("human.email is required"))?;
                let profile = h.profile.unwrap_or_default();
                let password = h.password.unwrap_or_default();
                let o = OwnerInput {
                    username: h.user_name,
                    email: email.email,
                    email_verified: email.is_email_verified,
                    first_name: profile.first_name,
                    last_name: profile.last_name,
                    preferred_language: profile.preferred_language,
                    password: password.password,
                    password_change_required: password.password_change_required,
                };
                (Some(o), None)
            }
            Some(Owner::Machine(m)) => {
                let pat_expiry = m
                    .personal_access_token
                    .map(|p| tokens::expiration(p.expiration_date.as_ref()))
                    .transpose()
                    .map_err(crate::error::ApiErr)?;
                let key_expiry = match m.machine_key {
                    None => None,
                    Some(k) if k.r#type == 1 => Some(
                        tokens::expiration(k.expiration_date.as_ref())
                            .map_err(crate::error::ApiErr)?,
                    ),
                    Some(_) => {
                        return Err(invalid("machine.machineKey.type must be KEY_TYPE_JSON").into())
                    }
                };
                let o = MachineOwner {
                    username: m.user_name,
                    name: m.name,
                    pat_expiry,
                    key_expiry,
                };
                (None, Some(o))
            }
        };
        let spec = instances::spec(
            &self.st,
            InstanceInput {
                name: r.instance_name,
                org_name: r.first_org_name,
                custom_domain: r.custom_domain,
                default_language: r.default_language,
                human,
                machine,
            },
        )
        .await?;
        let c = instances::create(&self.st, &ctx.caller()?.user_id, spec).await?;
        ok(CreateInstanceResponse {
            instance_id: c.instance_id,
            details: Some(c.details),
            pat: c.pat.unwrap_or_default(),
            machine_key: c.key_file.unwrap_or_default(),
        })
    }

    async fn update_instance(
        &self,
        req: Request<UpdateInstanceRequest>,
    ) -> Res<UpdateInstanceResponse> {
        let (ctx, r) = split(req)?;
        ok(UpdateInstanceResponse {
            details: Some(
                instances::update(&self.st, &ctx, &r.instance_id, &r.instance_name).await?,
            ),
        })
    }

    async fn remove_instance(
        &self,
        req: Request<RemoveInstanceRequest>,
    ) -> Res<RemoveInstanceResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveInstanceResponse {
            details: Some(instances::remove(&self.st, &ctx, &r.instance_id).await?),
        })
    }

    async fn list_iam_members(
        &self,
        req: Request<ListIamMembersRequest>,
    ) -> Res<ListIamMembersResponse> {
        let (ctx, r) = split(req)?;
        instances::exists(&self.st, &r.instance_id).await?;
        let ctx = instances::on_instance(&ctx, &r.instance_id);
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            members::list(&self.st, &ctx, Scope::Instance, page, &r.queries).await?;
        ok(ListIamMembersResponse {
            details: list_details(total, pos),
            result,
        })
    }

    async fn exists_domain(&self, req: Request<ExistsDomainRequest>) -> Res<ExistsDomainResponse> {
        let (_, r) = split(req)?;
        ok(ExistsDomainResponse {
            exists: instances::domain_exists(&self.st, &r.domain).await?,
        })
    }

    async fn list_domains(&self, req: Request<ListDomainsRequest>) -> Res<ListDomainsResponse> {
        let (ctx, r) = split(req)?;
        instances::exists(&self.st, &r.instance_id).await?;
        let ctx = instances::on_instance(&ctx, &r.instance_id);
        let page = self.page(r.query.as_ref())?;
        let (total, pos, result) =
            instance::list_domains(&self.st, &ctx, page, r.sorting_column, &r.queries).await?;
        ok(ListDomainsResponse {
            details: list_details(total, pos),
            sorting_column: r.sorting_column,
            result,
        })
    }

    async fn add_domain(&self, req: Request<AddDomainRequest>) -> Res<AddDomainResponse> {
        let (ctx, r) = split(req)?;
        ok(AddDomainResponse {
            details: Some(instances::add_domain(&self.st, &ctx, &r.instance_id, &r.domain).await?),
        })
    }

    async fn remove_domain(&self, req: Request<RemoveDomainRequest>) -> Res<RemoveDomainResponse> {
        let (ctx, r) = split(req)?;
        ok(RemoveDomainResponse {
            details: Some(
                instances::remove_domain(&self.st, &ctx, &r.instance_id, &r.domain).await?,
            ),
        })
    }

    async fn set_primary_domain(
        &self,
        req: Request<SetPrimaryDomainRequest>,
    ) -> Res<SetPrimaryDomainResponse> {
        let (ctx, r) = split(req)?;
        ok(SetPrimaryDomainResponse {
            details: Some(
                instances::set_primary_domain(&self.st, &ctx, &r.instance_id, &r.domain).await?,
            ),
        })
    }
}

//! `identity.v1.TenantService`.

use tonic::{Request, Response, Status};

use super::{
    auth::environment,
    convert::{order, page_metadata, text, timestamp},
    pb::{self, tenant_service_server::TenantService},
};
use crate::{
    domain::{
        page::{self, PageRequest},
        tenant::{CreateTenant, Tenant, TenantFilter, TenantProfileInput, TenantSort, UpdateTenant},
    },
    service::Tenants,
};

/// gRPC face of tenant management.
pub struct TenantApi {
    tenants: Tenants,
}

impl TenantApi {
    /// Serves `tenants`.
    pub fn new(tenants: Tenants) -> Self {
        Self { tenants }
    }
}

pub(super) fn to_pb(tenant: Tenant) -> pb::Tenant {
    let p = tenant.profile;
    pb::Tenant {
        id: tenant.id,
        tenant_id: tenant.tenant_id,
        name: tenant.name,
        status: text(p.status),
        website: text(p.website),
        application_url: text(p.application_url),
        logo: text(p.logo),
        logo_url: text(p.logo_url),
        address: text(p.address),
        timezone: text(p.timezone),
        currency: text(p.currency),
        creator_name: text(p.creator_name),
        creator_email: text(p.creator_email),
        is_reseller: tenant.is_reseller,
        parent_tenant_id: text(tenant.parent_tenant_id),
        metadata: tenant.metadata.to_string(),
        created_at: Some(timestamp(tenant.created_at)),
        updated_at: Some(timestamp(tenant.updated_at)),
    }
}

#[tonic::async_trait]
impl TenantService for TenantApi {
    async fn create_tenant(
        &self,
        request: Request<pb::CreateTenantRequest>,
    ) -> Result<Response<pb::CreateTenantResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let create = CreateTenant {
            tenant_id: r.tenant_id,
            name: r.name,
            profile: TenantProfileInput {
                status: r.status,
                website: r.website,
                application_url: r.application_url,
                logo: r.logo,
                logo_url: r.logo_url,
                address: r.address,
                timezone: r.timezone,
                currency: r.currency,
                creator_name: r.creator_name,
                creator_email: r.creator_email,
            },
            is_reseller: r.is_reseller,
            parent_tenant_id: r.parent_tenant_id,
            metadata: r.metadata,
        };
        let tenant = self.tenants.create(&env, create).await?;
        Ok(Response::new(pb::CreateTenantResponse {
            tenant: Some(to_pb(tenant)),
        }))
    }

    async fn get_tenant(
        &self,
        request: Request<pb::GetTenantRequest>,
    ) -> Result<Response<pb::GetTenantResponse>, Status> {
        let env = environment(&request)?;
        let tenant = self.tenants.get(&env, &request.into_inner().tenant_id).await?;
        Ok(Response::new(pb::GetTenantResponse {
            tenant: Some(to_pb(tenant)),
        }))
    }

    async fn list_tenants(
        &self,
        request: Request<pb::ListTenantsRequest>,
    ) -> Result<Response<pb::ListTenantsResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let page = PageRequest::parse(r.limit.into(), r.offset.into()).map_err(crate::domain::Error::from)?;
        let sort = match pb::TenantSortBy::try_from(r.sort_by) {
            Ok(pb::TenantSortBy::Unspecified | pb::TenantSortBy::CreatedAt) => TenantSort::CreatedAt,
            Ok(pb::TenantSortBy::Name) => TenantSort::Name,
            Ok(pb::TenantSortBy::TenantId) => TenantSort::TenantId,
            Err(_) => {
                return Err(crate::domain::Error::invalid("sort_by", "is not a known sort field").into());
            }
        };
        let filter = TenantFilter {
            text: Some(r.filter).filter(|f| !f.is_empty()),
            tenant_ids: page::bounded_list("tenant_ids", r.tenant_ids).map_err(crate::domain::Error::from)?,
            sort,
            order: order(r.order)?,
        };
        let listed = self.tenants.list(&env, filter, page).await?;
        Ok(Response::new(pb::ListTenantsResponse {
            metadata: Some(page_metadata(&listed)),
            items: listed.items.into_iter().map(to_pb).collect(),
        }))
    }

    async fn update_tenant(
        &self,
        request: Request<pb::UpdateTenantRequest>,
    ) -> Result<Response<pb::UpdateTenantResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let update = UpdateTenant {
            name: r.name,
            status: r.status,
            website: r.website,
            application_url: r.application_url,
            logo: r.logo,
            logo_url: r.logo_url,
            address: r.address,
            timezone: r.timezone,
            currency: r.currency,
            creator_name: r.creator_name,
            creator_email: r.creator_email,
            is_reseller: r.is_reseller,
        };
        let tenant = self.tenants.update(&env, &r.tenant_id, update).await?;
        Ok(Response::new(pb::UpdateTenantResponse {
            tenant: Some(to_pb(tenant)),
        }))
    }

    async fn delete_tenant(
        &self,
        request: Request<pb::DeleteTenantRequest>,
    ) -> Result<Response<pb::DeleteTenantResponse>, Status> {
        let env = environment(&request)?;
        self.tenants.delete(&env, &request.into_inner().tenant_id).await?;
        Ok(Response::new(pb::DeleteTenantResponse {}))
    }

    async fn add_tenant_metadata(
        &self,
        request: Request<pb::AddTenantMetadataRequest>,
    ) -> Result<Response<pb::AddTenantMetadataResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let tenant = self.tenants.add_metadata(&env, &r.tenant_id, &r.metadata).await?;
        Ok(Response::new(pb::AddTenantMetadataResponse {
            tenant: Some(to_pb(tenant)),
        }))
    }

    async fn delete_tenant_metadata(
        &self,
        request: Request<pb::DeleteTenantMetadataRequest>,
    ) -> Result<Response<pb::DeleteTenantMetadataResponse>, Status> {
        let env = environment(&request)?;
        let r = request.into_inner();
        let tenant = self.tenants.delete_metadata(&env, &r.tenant_id, &r.key).await?;
        Ok(Response::new(pb::DeleteTenantMetadataResponse {
            tenant: Some(to_pb(tenant)),
        }))
    }
}

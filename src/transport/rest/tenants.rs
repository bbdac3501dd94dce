//! Tenant (account) management at the contract's paths (tenants.yml, "Accounts"), for callers
//! holding an environment token.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Gateway,
    error::{ApiError, EnvironmentCaller, ErrorBody, JsonBody, JsonBodyErrors, PathParams},
    params::{PageLinks, PageMetadata, Params, page_parts},
    sign_in::CallingEnvironment,
};
use crate::domain::{
    Error, metadata,
    scope::Scope,
    tenant::{CreateTenant, Tenant, TenantFilter, TenantProfileInput, UpdateTenant},
};

/// A tenant as the contract answers it. Optional fields that are unset are left out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantJson {
    /// Internal identifier.
    pub id: String,
    /// The tenant's identifier.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// The environment the tenant belongs to.
    pub vendor_id: String,
    /// Metadata: JSON (an object unless a caller stored another value), serialized.
    pub metadata: String,
    /// Whether the tenant resells.
    pub is_reseller: bool,
    /// Always null: deleted tenants are not returned.
    #[schema(value_type = Option<String>)]
    pub deleted_at: Option<()>,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Free-form status label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Website.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// URL of the tenant's application.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_url: Option<String>,
    /// Logo image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Logo URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Postal address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Currency code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Creator's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_name: Option<String>,
    /// Creator's email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator_email: Option<String>,
    /// The parent tenant, for a sub-tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_tenant_id: Option<String>,
}

/// An RFC 3339 time with milliseconds, as the contract's timestamps are written.
pub fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl TenantJson {
    /// The contract's view of `tenant` of environment `vendor_id`.
    pub fn new(tenant: Tenant, vendor_id: &str) -> Self {
        let p = tenant.profile;
        Self {
            id: tenant.id,
            tenant_id: tenant.tenant_id,
            name: tenant.name,
            vendor_id: vendor_id.to_owned(),
            metadata: tenant.metadata.to_string(),
            is_reseller: tenant.is_reseller,
            deleted_at: None,
            created_at: time(tenant.created_at),
            updated_at: time(tenant.updated_at),
            status: p.status,
            website: p.website,
            application_url: p.application_url,
            logo: p.logo,
            logo_url: p.logo_url,
            address: p.address,
            timezone: p.timezone,
            currency: p.currency,
            creator_name: p.creator_name,
            creator_email: p.creator_email,
            parent_tenant_id: tenant.parent_tenant_id,
        }
    }
}

/// `CreateTenantRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTenantRequest {
    /// Identifier to use; a UUID is generated when absent.
    #[serde(default)]
    tenant_id: Option<String>,
    /// Display name; sigil requires one.
    #[serde(default)]
    name: Option<String>,
    /// Free-form status label.
    #[serde(default)]
    status: Option<String>,
    /// Website.
    #[serde(default)]
    website: Option<String>,
    /// URL of the tenant's application.
    #[serde(default)]
    application_url: Option<String>,
    /// Logo image (base64).
    #[serde(default)]
    logo: Option<String>,
    /// Logo URL.
    #[serde(default)]
    logo_url: Option<String>,
    /// Postal address.
    #[serde(default)]
    address: Option<String>,
    /// Time zone.
    #[serde(default)]
    timezone: Option<String>,
    /// Currency code.
    #[serde(default)]
    currency: Option<String>,
    /// Creator's name.
    #[serde(default)]
    creator_name: Option<String>,
    /// Creator's email.
    #[serde(default)]
    creator_email: Option<String>,
    /// Whether the tenant resells.
    #[serde(default)]
    is_reseller: Option<bool>,
    /// The parent tenant; it must exist.
    #[serde(default)]
    parent_tenant_id: Option<String>,
    /// Metadata: any JSON value, or JSON text in a string; an empty object when absent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: serde_json::Value,
}

/// `UpdateTenantRequest` (the contract leaves its fields open; these are the ones sigil
/// changes). Absent fields stay as they are; an empty string clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTenantRequest {
    /// New display name; cannot be empty.
    #[serde(default)]
    name: Option<String>,
    /// New status label.
    #[serde(default)]
    status: Option<String>,
    /// New website.
    #[serde(default)]
    website: Option<String>,
    /// New application URL.
    #[serde(default)]
    application_url: Option<String>,
    /// New logo.
    #[serde(default)]
    logo: Option<String>,
    /// New logo URL.
    #[serde(default)]
    logo_url: Option<String>,
    /// New address.
    #[serde(default)]
    address: Option<String>,
    /// New time zone.
    #[serde(default)]
    timezone: Option<String>,
    /// New currency code.
    #[serde(default)]
    currency: Option<String>,
    /// New creator name.
    #[serde(default)]
    creator_name: Option<String>,
    /// New creator email.
    #[serde(default)]
    creator_email: Option<String>,
    /// New reseller flag.
    #[serde(default)]
    is_reseller: Option<bool>,
}

/// `AddTenantMetadataRequest`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddTenantMetadataRequest {
    /// Keys to merge into the tenant's metadata: a JSON object, or one serialized in a string;
    /// any other JSON value replaces the metadata.
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
}

/// The tenant named in the path.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// The tenant's id.
    tenant_id: String,
}

/// A tenant and one of its metadata keys.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct TenantKeyPath {
    /// The tenant's id.
    tenant_id: String,
    /// The metadata key to remove.
    key: String,
}

/// Query of `GET /tenants/resources/tenants/v2`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TenantListQuery {
    /// Page size: 50 when absent or 0, at most 200.
    #[param(rename = "_limit", minimum = 0, maximum = 200)]
    limit: Option<i64>,
    /// Page number, 0 for the first page.
    #[param(rename = "_offset", minimum = 0)]
    offset: Option<i64>,
    /// Keeps tenants whose name or tenant id contains this text, ignoring case.
    #[param(rename = "_filter")]
    filter: Option<String>,
    /// Field to sort by.
    #[param(rename = "_sortBy", inline)]
    sort_by: Option<TenantSortBy>,
    /// Sort direction.
    #[param(rename = "_order", inline)]
    order: Option<SortOrder>,
    /// Keeps only these tenant ids (repeated, or joined with commas).
    #[param(rename = "_tenantIds")]
    tenant_ids: Option<Vec<String>>,
}

// Documentation only: `Params` reads the parameter.
/// Fields a tenant listing sorts by.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum TenantSortBy {
    /// Creation time.
    CreatedAt,
    /// Display name.
    Name,
    /// Tenant id.
    TenantId,
}

// Documentation only: `Params` reads the parameter.
/// Sort direction.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(dead_code)]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// A page of tenants.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantPage {
    /// The tenants on this page.
    items: Vec<TenantJson>,
    /// Totals across all pages.
    #[serde(rename = "_metadata")]
    metadata: PageMetadata,
    /// Neighbouring pages.
    #[serde(rename = "_links")]
    links: PageLinks,
}

/// `POST /tenants/resources/tenants/v1`.
#[utoipa::path(
    post,
    path = "/tenants/resources/tenants/v1",
    tag = "Accounts",
    operation_id = "TenantControllerV1_createTenant",
    summary = "Create an account (tenant); an id that was deleted is revived",
    security(("environmentToken" = [])),
    request_body = CreateTenantRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The created tenant", body = TenantJson),
        (status = 400, description = "A field is invalid or the parent does not exist", body = ErrorBody),
        (status = 409, description = "A tenant with this id exists", body = ErrorBody),
    )
)]
pub async fn create_tenant(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<CreateTenantRequest>,
) -> Result<Response, ApiError> {
    let create = CreateTenant {
        tenant_id: body.tenant_id.unwrap_or_default(),
        name: body.name.unwrap_or_default(),
        profile: TenantProfileInput {
            status: body.status.unwrap_or_default(),
            website: body.website.unwrap_or_default(),
            application_url: body.application_url.unwrap_or_default(),
            logo: body.logo.unwrap_or_default(),
            logo_url: body.logo_url.unwrap_or_default(),
            address: body.address.unwrap_or_default(),
            timezone: body.timezone.unwrap_or_default(),
            currency: body.currency.unwrap_or_default(),
            creator_name: body.creator_name.unwrap_or_default(),
            creator_email: body.creator_email.unwrap_or_default(),
        },
        is_reseller: body.is_reseller.unwrap_or_default(),
        parent_tenant_id: body.parent_tenant_id.unwrap_or_default(),
        metadata: metadata::from_wire(body.metadata),
    };
    let tenant = gateway.services.tenants.create(&environment, create).await?;
    Ok((
        StatusCode::CREATED,
        Json(TenantJson::new(tenant, environment.environment_id())),
    )
        .into_response())
}

/// `GET /tenants/resources/tenants/v1`: every tenant, unpaged, as Frontegg's clients list them.
#[utoipa::path(
    get,
    path = "/tenants/resources/tenants/v1",
    tag = "Accounts",
    operation_id = "TenantControllerV1_getTenants",
    summary = "List every account (tenant), by tenant id",
    security(("environmentToken" = [])),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The tenants", body = Vec<TenantJson>),
    )
)]
pub async fn list_all_tenants(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
) -> Result<Response, ApiError> {
    let tenants = gateway.services.tenants.all(&environment).await?;
    let items: Vec<_> = tenants
        .into_iter()
        .map(|t| TenantJson::new(t, environment.environment_id()))
        .collect();
    Ok(Json(items).into_response())
}

/// `GET /tenants/resources/tenants/v1/{tenantId}`: the tenant in a one-element array, which is
/// what Frontegg answers and its clients parse.
#[utoipa::path(
    get,
    path = "/tenants/resources/tenants/v1/{tenantId}",
    tag = "Accounts",
    operation_id = "TenantControllerV1_getTenant",
    summary = "Get an account (tenant) by id",
    security(("environmentToken" = [])),
    params(TenantPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The tenant, alone in an array", body = Vec<TenantJson>),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn get_tenant_v1(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<TenantPath>,
) -> Result<Response, ApiError> {
    let tenant = gateway
        .services
        .tenants
        .get(&environment, &path.tenant_id)
        .await?;
    Ok(Json([TenantJson::new(tenant, environment.environment_id())]).into_response())
}

/// `GET /tenants/resources/tenants/v2/{tenantId}`.
#[utoipa::path(
    get,
    path = "/tenants/resources/tenants/v2/{tenantId}",
    tag = "Accounts",
    operation_id = "TenantControllerV2_getTenant",
    summary = "Get an account (tenant)",
    security(("environmentToken" = [])),
    params(TenantPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The tenant", body = TenantJson),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn get_tenant_v2(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<TenantPath>,
) -> Result<Response, ApiError> {
    let tenant = gateway
        .services
        .tenants
        .get(&environment, &path.tenant_id)
        .await?;
    Ok(Json(TenantJson::new(tenant, environment.environment_id())).into_response())
}

/// `GET /tenants/resources/tenants/v2`.
#[utoipa::path(
    get,
    path = "/tenants/resources/tenants/v2",
    tag = "Accounts",
    operation_id = "TenantControllerV2_getTenants",
    summary = "List accounts (tenants) a page at a time",
    security(("environmentToken" = [])),
    params(TenantListQuery),
    responses(
        EnvironmentCaller,
        (status = 200, description = "A page of tenants", body = TenantPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn list_tenants(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    params: Params,
) -> Result<Response, ApiError> {
    let page = params.page()?;
    let sort = params.sort("_sortBy")?;
    let filter = TenantFilter {
        text: params.text("_filter")?,
        tenant_ids: params.list("_tenantIds")?,
        sort,
        order: params.order()?,
    };
    let listed = gateway.services.tenants.list(&environment, filter, page).await?;
    let (metadata, links) = page_parts(&listed, page);
    let items = listed
        .items
        .into_iter()
        .map(|t| TenantJson::new(t, environment.environment_id()))
        .collect();
    Ok(Json(TenantPage {
        items,
        metadata,
        links,
    })
    .into_response())
}

async fn update(
    gateway: Gateway,
    scope: &Scope,
    tenant_id: &str,
    body: UpdateTenantRequest,
) -> Result<Response, ApiError> {
    let update = UpdateTenant {
        name: body.name,
        status: body.status,
        website: body.website,
        application_url: body.application_url,
        logo: body.logo,
        logo_url: body.logo_url,
        address: body.address,
        timezone: body.timezone,
        currency: body.currency,
        creator_name: body.creator_name,
        creator_email: body.creator_email,
        is_reseller: body.is_reseller,
    };
    if update.changes_nothing() {
        return Err(Error::invalid("body", "names no property to change").into());
    }
    let tenant = gateway.services.tenants.update(scope, tenant_id, update).await?;
    Ok(Json(TenantJson::new(tenant, scope.environment_id())).into_response())
}

/// `PUT /tenants/resources/tenants/v1/{tenantId}`, and v2.
#[utoipa::path(
    put,
    path = "/tenants/resources/tenants/v1/{tenantId}",
    tag = "Accounts",
    operation_id = "TenantControllerV1_updateTenant",
    summary = "Update an account (tenant)",
    security(("environmentToken" = [])),
    params(TenantPath),
    request_body = UpdateTenantRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 200, description = "The updated tenant", body = TenantJson),
        (status = 400, description = "A field is invalid, or none is given", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn update_tenant(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<UpdateTenantRequest>,
) -> Result<Response, ApiError> {
    update(gateway, &environment, &path.tenant_id, body).await
}

/// `DELETE /tenants/resources/tenants/v1/{tenantId}`.
#[utoipa::path(
    delete,
    path = "/tenants/resources/tenants/v1/{tenantId}",
    tag = "Accounts",
    operation_id = "TenantControllerV1_deleteTenant",
    summary = "Delete an account (tenant); users left without a tenant go with it",
    security(("environmentToken" = [])),
    params(TenantPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "Deleted"),
        (status = 400, description = "The id cannot be read", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn delete_tenant(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<TenantPath>,
) -> Result<Response, ApiError> {
    gateway
        .services
        .tenants
        .delete(&environment, &path.tenant_id)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// `POST /tenants/resources/tenants/v1/{tenantId}/metadata`.
#[utoipa::path(
    post,
    path = "/tenants/resources/tenants/v1/{tenantId}/metadata",
    tag = "Accounts",
    operation_id = "TenantControllerV1_addTenantMetadata",
    summary = "Merge keys into an account's (tenant's) metadata",
    security(("environmentToken" = [])),
    params(TenantPath),
    request_body = AddTenantMetadataRequest,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "The tenant with its merged metadata", body = TenantJson),
        (status = 400, description = "The metadata is not JSON or too large", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn add_tenant_metadata(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<TenantPath>,
    JsonBody(body): JsonBody<AddTenantMetadataRequest>,
) -> Result<Response, ApiError> {
    let raw = metadata::from_wire(body.metadata);
    let tenant = gateway
        .services
        .tenants
        .add_metadata(&environment, &path.tenant_id, &raw)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TenantJson::new(tenant, environment.environment_id())),
    )
        .into_response())
}

/// `DELETE /tenants/resources/tenants/v1/{tenantId}/metadata/{key}`.
#[utoipa::path(
    delete,
    path = "/tenants/resources/tenants/v1/{tenantId}/metadata/{key}",
    tag = "Accounts",
    operation_id = "TenantControllerV1_deleteTenantMetadata",
    summary = "Remove a key from an account's (tenant's) metadata",
    security(("environmentToken" = [])),
    params(TenantKeyPath),
    responses(
        EnvironmentCaller,
        (status = 200, description = "The tenant without the key", body = TenantJson),
        (status = 400, description = "The id or key cannot be read", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    )
)]
pub async fn delete_tenant_metadata(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    PathParams(path): PathParams<TenantKeyPath>,
) -> Result<Response, ApiError> {
    let tenant = gateway
        .services
        .tenants
        .delete_metadata(&environment, &path.tenant_id, &path.key)
        .await?;
    Ok(Json(TenantJson::new(tenant, environment.environment_id())).into_response())
}

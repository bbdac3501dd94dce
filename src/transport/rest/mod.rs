//! The REST gateway: Frontegg's paths and JSON over the same services as the gRPC API, so
//! callers and SDKs written for Frontegg work by changing only their base URL.

mod bulk_roles;
mod configurations;
mod error;
mod groups;
mod me;
mod openapi;
mod params;
mod permissions;
mod roles;
mod sign_in;
mod team;
mod tenants;
mod users;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use axum::{
    Extension, Json, Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};
use serde::Serialize;
use tower::Layer;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    normalize_path::{NormalizePath, NormalizePathLayer},
};
use tracing::{Instrument, field::Empty};
use utoipa::OpenApi;
use utoipa_axum::{
    router::{OpenApiRouter, UtoipaMethodRouter},
    routes,
};

pub use error::ApiError;
use error::PublicCaller;
use openapi::ApiDoc;
use sign_in::PublicEnvironment;
pub use sign_in::refresh_cookie_name;

use crate::{
    domain::{Error, admin::AdminToken},
    service::Services,
    telemetry::{self, metrics::Metrics},
    transport::policy::{Authorizer, Policy},
};

/// Response header carrying the request's trace id.
pub const TRACE_ID_HEADER: HeaderName = HeaderName::from_static("frontegg-trace-id");

/// Prefix of every path Frontegg's browser SDK (`@frontegg/rest-api`) calls, after its base URL.
pub const FRONTEGG_PREFIX: &str = "/frontegg";

/// What the gateway's handlers share. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    services: Services,
    /// Checks every route's caller by the policy of the RPC it serves.
    authorizer: Authorizer,
    cookie_secure: bool,
    /// Origins whose pages may use the refresh cookie: the CORS origins and sigil's own.
    cookie_origins: Arc<Vec<HeaderValue>>,
    ready: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
}

/// Settings of the gateway.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Whether the refresh cookie is marked `Secure`.
    pub cookie_secure: bool,
    /// Largest request body read, in bytes.
    pub body_limit: usize,
    /// Browser origins allowed to call with credentials.
    pub cors_origins: Vec<HeaderValue>,
    /// sigil's own origin (of its public URL), whose pages may use the refresh cookie too.
    pub public_origin: Option<HeaderValue>,
    /// Where requests are counted, and what `/metrics` shows.
    pub metrics: Arc<Metrics>,
    /// Whether `/metrics` is served here; not when a separate listener serves it.
    pub serve_metrics: bool,
}

/// CORS for the configured origins, with credentials (the refresh cookie) allowed. Headers are
/// listed, not wildcarded: browsers ignore a wildcard on credentialed requests.
fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(crate::transport::headers::VENDOR_HOST),
            HeaderName::from_static("frontegg-tenant-id"),
            HeaderName::from_static("frontegg-user-id"),
            HeaderName::from_static("frontegg-requested-application-id"),
            HeaderName::from_static("frontegg-login-alias"),
            HeaderName::from_static("x-frontegg-framework"),
            HeaderName::from_static("x-frontegg-sdk"),
            HeaderName::from_static("traceparent"),
            HeaderName::from_static("tracestate"),
            HeaderName::from_static("b3"),
            HeaderName::from_static("x-b3-traceid"),
            HeaderName::from_static("x-b3-spanid"),
            HeaderName::from_static("x-b3-parentspanid"),
            HeaderName::from_static("x-b3-sampled"),
            HeaderName::from_static("x-b3-flags"),
        ])
        .expose_headers([TRACE_ID_HEADER])
        .max_age(std::time::Duration::from_secs(600))
}

/// The gateway: its routes, each also answering with a trailing slash (Frontegg's Python SDK
/// calls `/auth/vendor/`), because Frontegg does. `ready` tells whether the database is
/// reachable and migrated.
pub fn service(
    services: Services,
    settings: GatewaySettings,
    ready: Arc<AtomicBool>,
) -> NormalizePath<Router> {
    NormalizePathLayer::trim_trailing_slash().layer(router(services, settings, ready))
}

fn router(services: Services, settings: GatewaySettings, ready: Arc<AtomicBool>) -> Router {
    let metrics = settings.metrics.clone();
    let cookie_origins = settings
        .cors_origins
        .iter()
        .chain(&settings.public_origin)
        .cloned()
        .collect();
    let authorizer = Authorizer::new(
        services.environments.clone(),
        services.tokens.clone(),
        // No route of the gateway is the operator's.
        AdminToken::new(None),
    );
    let gateway = Gateway {
        services,
        authorizer,
        cookie_secure: settings.cookie_secure,
        cookie_origins: Arc::new(cookie_origins),
        ready,
        metrics: settings.metrics,
    };
    // Routes only: the document (descriptions, schemas) is built when `/openapi.json` is first
    // asked for, not kept by every process that never serves it.
    let frontegg = frontegg_api(Router::new());
    let operational = operational_api(Router::new());
    // Frontegg's API. Its browser SDK puts `/frontegg` before every path it calls, so it is served
    // at both; the operational routes only at the root.
    let mut root = Router::new().merge(operational);
    if settings.serve_metrics {
        root = root.route("/metrics", get(metrics_text));
    }
    root.nest(FRONTEGG_PREFIX, frontegg.clone())
        .merge(frontegg)
        .fallback(|| async { ApiError::no_route(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async { ApiError::no_route(StatusCode::METHOD_NOT_ALLOWED) })
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(middleware::from_fn(refuse_control_characters))
        .layer(cors(settings.cors_origins))
        .layer(middleware::from_fn_with_state(metrics, trace))
        // For the route layers of `guarded`, which are built before the gateway exists.
        .layer(Extension(gateway.clone()))
        .with_state(gateway)
}

/// Routes outside Frontegg's contract, open to anyone: probes and the API's description.
const OPEN_ROUTES: &[&str] = &["healthz", "livez", "readyz", "openapi"];

/// `router`, serving the REST operation `operation_id`, behind the policy of the RPC that serves
/// the operation: the caller is checked before the handler runs and left in the request's
/// extensions as a [`Caller`]. An operation of the contract with no RPC is refused outright (and
/// fails the policy coverage test).
fn guarded(operation_id: Option<&str>, router: MethodRouter<Gateway>) -> MethodRouter<Gateway> {
    match operation_id.and_then(Policy::for_operation) {
        Some(policy) => router.route_layer(middleware::from_fn_with_state(policy, authorize)),
        None if operation_id.is_some_and(|id| OPEN_ROUTES.contains(&id)) => router,
        None => {
            debug_assert!(false, "{operation_id:?} is served by no RPC");
            router.route_layer(middleware::from_fn(|_: Request, _: Next| async {
                ApiError::from(Error::PermissionDenied {
                    reason: "NO_POLICY",
                    message: "this operation declares no access policy",
                })
                .into_response()
            }))
        }
    }
}

/// The route layer of [`guarded`].
async fn authorize(
    State(policy): State<&'static Policy>,
    Extension(gateway): Extension<Gateway>,
    mut request: Request,
    next: Next,
) -> Response {
    match gateway.authorizer.authorize(policy, request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// Refuses, before any route sees it, a request whose path or query holds a control character
/// once percent-decoded (`%00` in an id): no id, email or filter sigil stores can contain one, and
/// PostgreSQL refuses NUL in text outright.
async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let mut decoded = percent_encoding::percent_decode_str(uri.path()).chain(
        percent_encoding::percent_decode_str(uri.query().unwrap_or_default()),
    );
    if decoded.any(|byte| byte < 0x20 || byte == 0x7f) {
        return ApiError::bad_request("the path and query must not contain control characters")
            .into_response();
    }
    next.run(request).await
}

/// The gateway's OpenAPI document: the same declarations that route requests.
pub(crate) fn document() -> utoipa::openapi::OpenApi {
    let mut document = frontegg_api(OpenApiRouter::with_openapi(ApiDoc::openapi())).into_openapi();
    document.merge(operational_api(OpenApiRouter::new()).into_openapi());
    document
}

/// The operations of one path, declared once (by [`declare!`]): `route` serves them, `document`
/// describes them. Each is built only by the gateway that needs it (see [`Declare`]).
struct Declared<R, D> {
    route: R,
    document: D,
}

/// Builds a [`Declared`] from handlers of one path, each written `module::handler` (`self::` for
/// this module's) and annotated with `#[utoipa::path]`, which gives its path and methods.
macro_rules! declare {
    ($($module:ident :: $handler:ident),+ $(,)?) => {
        Declared {
            route: || {
                use utoipa::Path as _;
                use utoipa_axum::PathItemExt as _;
                let mut paths = Vec::new();
                let mut router = axum::routing::MethodRouter::new();
                $(
                    utoipa_axum::paste! {
                        paths.push($module::[<__path_ $handler>]::path());
                        let operation_id = $module::[<__path_ $handler>]::operation().operation_id;
                        for method in $module::[<__path_ $handler>]::methods() {
                            let route = axum::routing::MethodRouter::new()
                                .on(method.to_method_filter(), $module::$handler);
                            router = router.merge(guarded(operation_id.as_deref(), route));
                        }
                    }
                )+
                // Handlers declared together serve one path (the coverage tests build every route).
                debug_assert!(paths.windows(2).all(|pair| pair[0] == pair[1]), "{paths:?}");
                (paths.swap_remove(0), router)
            },
            document: || routes!($($module::$handler),+),
        }
    };
}

/// Builds the routes of a [`Declared`] path: the path and its methods' handlers.
trait Routes: FnOnce() -> (String, MethodRouter<Gateway>) {}
impl<F: FnOnce() -> (String, MethodRouter<Gateway>)> Routes for F {}

/// Builds the routes of a [`Declared`] path with their description.
trait Documents: FnOnce() -> UtoipaMethodRouter<Gateway> {}
impl<F: FnOnce() -> UtoipaMethodRouter<Gateway>> Documents for F {}

/// What a list of [`Declared`] operations builds: the routes that serve them, or the router that
/// also documents them.
trait Declare: Sized {
    /// Adds `operation`'s routes (or its routes and description).
    fn declare<R: Routes, D: Documents>(self, operation: Declared<R, D>) -> Self;
}

impl Declare for Router<Gateway> {
    fn declare<R: Routes, D: Documents>(self, operation: Declared<R, D>) -> Self {
        let (path, router) = (operation.route)();
        self.route(&path, router)
    }
}

impl Declare for OpenApiRouter<Gateway> {
    fn declare<R: Routes, D: Documents>(self, operation: Declared<R, D>) -> Self {
        self.routes((operation.document)())
    }
}

/// The operation of `operation` (one handler) served again at `path` under `operation_id`: a
/// later version of an operation that answers the same, declared in one line.
fn alias<R: Routes, D: Documents>(
    operation: Declared<R, D>,
    path: &'static str,
    operation_id: &'static str,
) -> Declared<impl Routes, impl Documents> {
    let Declared { route, document } = operation;
    Declared {
        route: move || (path.to_owned(), route().1),
        document: move || {
            let (schemas, paths, method_router) = document();
            let mut aliased = utoipa::openapi::path::Paths::new();
            for (_, mut item) in paths.paths {
                for operation in [
                    &mut item.get,
                    &mut item.put,
                    &mut item.post,
                    &mut item.delete,
                    &mut item.patch,
                ]
                .into_iter()
                .flatten()
                {
                    operation.operation_id = Some(operation_id.to_owned());
                }
                aliased.paths.insert(path.to_owned(), item);
            }
            (schemas, aliased, method_router)
        },
    }
}

/// Probes and this document, at the root only.
fn operational_api<A: Declare>(api: A) -> A {
    api.declare(declare!(self::healthz))
        .declare(declare!(self::livez))
        .declare(declare!(self::readyz))
        .declare(declare!(openapi::openapi_json))
}

/// Frontegg's paths: each handler's `#[utoipa::path]` is its route and its documentation.
fn frontegg_api<A: Declare>(api: A) -> A {
    api.declare(declare!(self::jwks))
        .declare(declare!(
            configurations::get_configuration,
            configurations::update_configuration
        ))
        .declare(declare!(configurations::get_basic_configuration))
        // Environment authentication, sign-in and activation.
        .declare(declare!(sign_in::authenticate_vendor))
        .declare(declare!(sign_in::login))
        .declare(declare!(sign_in::refresh))
        .declare(declare!(sign_in::logout))
        .declare(declare!(sign_in::activate_user))
        .declare(declare!(sign_in::activate_user_with_code))
        .declare(declare!(sign_in::activation_strategy))
        .declare(declare!(sign_in::reset_activation_token))
        // Tenants.
        .declare(declare!(tenants::create_tenant, tenants::list_all_tenants))
        .declare(declare!(
            tenants::get_tenant_v1,
            tenants::update_tenant,
            tenants::delete_tenant
        ))
        .declare(alias(
            declare!(tenants::update_tenant),
            "/tenants/resources/tenants/v2/{tenantId}",
            "TenantControllerV2_updateTenant",
        ))
        .declare(declare!(tenants::get_tenant_v2))
        .declare(declare!(tenants::list_tenants))
        .declare(declare!(tenants::add_tenant_metadata))
        .declare(declare!(tenants::delete_tenant_metadata))
        // Users, by the environment.
        .declare(declare!(users::create_user, users::update_user_in_tenant))
        .declare(alias(
            declare!(users::create_user),
            "/identity/resources/users/v2",
            "UsersControllerV2_createUser",
        ))
        .declare(declare!(users::list_users))
        .declare(alias(
            declare!(users::list_users),
            "/identity/resources/users/v1",
            "UsersControllerV1_getUsers",
        ))
        .declare(declare!(users::search_users))
        .declare(declare!(users::get_user_by_email))
        .declare(declare!(
            users::get_user,
            users::update_user_globally,
            users::delete_user
        ))
        .declare(declare!(users::add_user_to_tenant, users::set_user_tenant))
        .declare(declare!(users::lock_user))
        .declare(declare!(users::unlock_user))
        .declare(declare!(users::verify_user))
        .declare(declare!(users::set_super_user))
        .declare(declare!(users::set_invisible))
        .declare(declare!(users::generate_activation_token))
        .declare(declare!(users::create_vendor_user))
        .declare(declare!(users::get_vendor_user))
        .declare(declare!(bulk_roles::bulk_update_user_roles))
        .declare(declare!(bulk_roles::bulk_roles_task_status))
        // Roles, permissions and their categories.
        .declare(declare!(roles::list_roles, roles::create_roles))
        .declare(declare!(roles::update_role, roles::delete_role))
        .declare(declare!(roles::set_role_permissions))
        .declare(declare!(roles::set_role_tenant))
        .declare(declare!(roles::list_roles_paged, roles::create_role_v2))
        .declare(declare!(roles::role_levels))
        .declare(declare!(roles::role_tenants))
        .declare(declare!(roles::assign_user_roles, roles::unassign_user_roles))
        .declare(declare!(roles::users_roles))
        .declare(declare!(me::my_authorization))
        // User groups.
        .declare(declare!(groups::list_groups, groups::create_group))
        .declare(declare!(groups::get_groups_by_ids))
        .declare(declare!(groups::groups_configuration, groups::configure_groups))
        .declare(declare!(
            groups::get_group,
            groups::update_group,
            groups::delete_group
        ))
        .declare(declare!(
            groups::add_roles_to_group,
            groups::remove_roles_from_group
        ))
        .declare(declare!(
            groups::add_users_to_group,
            groups::remove_users_from_group
        ))
        .declare(declare!(groups::list_groups_paged))
        .declare(declare!(groups::users_groups))
        .declare(declare!(
            permissions::list_permissions,
            permissions::create_permissions
        ))
        .declare(declare!(
            permissions::update_permission,
            permissions::delete_permission
        ))
        .declare(declare!(permissions::add_permission_to_roles))
        .declare(declare!(permissions::classify_permissions))
        .declare(declare!(
            permissions::list_categories,
            permissions::create_category
        ))
        .declare(declare!(
            permissions::update_category,
            permissions::delete_category
        ))
        // The signed-in user's own.
        .declare(declare!(me::get_me, me::update_me))
        .declare(alias(
            declare!(me::get_me),
            "/identity/resources/users/v3/me",
            "UsersControllerV3_getUserProfile",
        ))
        .declare(declare!(me::my_tenants_and_active))
        .declare(alias(
            declare!(me::my_tenants_and_active),
            "/identity/resources/users/v3/me/tenants",
            "UsersControllerV3_getUserTenants",
        ))
        .declare(declare!(me::my_tenants_v2))
        .declare(declare!(me::switch_tenant))
        // The tenant's team, as the admin portal manages it.
        .declare(declare!(team::list_members, team::update_member))
        .declare(declare!(team::delete_member))
        .declare(declare!(team::list_roles))
        .declare(declare!(team::stats))
}

/// Routes called by machinery rather than users.
const UNTRACED: &[&str] = &["/healthz", "/livez", "/readyz", "/metrics"];

/// Runs each request in a server span named and attributed after OpenTelemetry's HTTP
/// conventions (`GET /readyz`), continuing the caller's trace; counts and times it by method,
/// route and status; and names the trace in a response header so a caller can quote it.
/// Without a trace exporter the span carries only what logs show (method and path).
async fn trace(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let _in_flight = metrics.http_started();
    // The route template, never the path: paths carry ids, and callers can make them up.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    // Methods outside HTTP's own are one value, as the conventions ask: callers make them up.
    let method = match *request.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::OPTIONS
        | Method::CONNECT
        | Method::TRACE => request.method().as_str().to_owned(),
        _ => "_OTHER".to_owned(),
    };
    // Probes and scrapes come every few seconds: counted, not traced.
    let span = if route.as_deref().is_some_and(|r| UNTRACED.contains(&r)) {
        tracing::Span::none()
    } else if !telemetry::exporting() {
        // Logs show the method and path; nothing reads the conventions' other fields.
        tracing::info_span!(
            "http.server",
            http.request.method = %method,
            url.path = %request.uri().path(),
        )
    } else {
        tracing::info_span!(
            "http.server",
            otel.name = match &route {
                Some(route) => format!("{method} {route}"),
                None => method.clone(),
            },
            otel.kind = "server",
            http.request.method = method,
            http.route = route.as_deref(),
            url.path = %request.uri().path(),
            http.response.status_code = Empty,
            otel.status_code = Empty,
        )
    };
    telemetry::continue_trace(&span, request.headers());
    let trace_id = span
        .in_scope(telemetry::current_trace_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let mut response = error::TRACE_ID
        .scope(trace_id.clone(), next.run(request).instrument(span.clone()))
        .await;
    let status = response.status();
    let elapsed = started.elapsed();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    if tracing::enabled!(tracing::Level::DEBUG) {
        span.in_scope(|| {
            tracing::debug!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_secs_f64() * 1000.0,
                "HTTP request finished"
            );
        });
    }
    metrics.http_handled(
        &method,
        route.as_deref().unwrap_or("none"),
        status.as_u16(),
        elapsed,
    );
    if let Ok(value) = HeaderValue::from_str(&trace_id) {
        response.headers_mut().insert(TRACE_ID_HEADER, value);
    }
    response
}

/// `GET /metrics`: every metric, in the OpenMetrics text format Prometheus scrapes.
async fn metrics_text(State(gateway): State<Gateway>) -> Response {
    render_metrics(&gateway.metrics)
}

fn render_metrics(metrics: &Metrics) -> Response {
    (
        [(header::CONTENT_TYPE, telemetry::metrics::CONTENT_TYPE)],
        metrics.render(),
    )
        .into_response()
}

/// The separate metrics listener (`SIGIL_METRICS_ADDR`): `GET /metrics`, and 404 for anything
/// else.
pub fn metrics_service(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(metrics): State<Arc<Metrics>>| async move { render_metrics(&metrics) }),
        )
        .fallback(|| async { ApiError::no_route(StatusCode::NOT_FOUND) })
        .with_state(metrics)
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "Health", operation_id = "healthz", summary = "The process is up",
    responses((status = 200, description = "Up")))]
async fn healthz() -> StatusCode {
    StatusCode::OK
}

/// `GET /livez`.
#[utoipa::path(get, path = "/livez", tag = "Health", operation_id = "livez", summary = "The process is alive",
    responses((status = 200, description = "Alive")))]
async fn livez() -> StatusCode {
    StatusCode::OK
}

/// `GET /readyz`.
#[utoipa::path(get, path = "/readyz", tag = "Health", operation_id = "readyz",
    summary = "The database is reachable and migrated",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready")))]
async fn readyz(State(gateway): State<Gateway>) -> Response {
    if gateway.ready.load(Ordering::Relaxed) {
        StatusCode::OK.into_response()
    } else {
        // Readiness is checked again every 250 ms while the database cannot write.
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "1")],
        )
            .into_response()
    }
}

/// One public key of a JWKS document (RFC 7517).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct JwkJson {
    /// Key type: `RSA`.
    kty: &'static str,
    /// Use: `sig`.
    #[serde(rename = "use")]
    usage: &'static str,
    /// Algorithm: `RS256`.
    alg: &'static str,
    /// Key id, as in the tokens' `kid` header.
    kid: String,
    /// Modulus, base64url.
    n: String,
    /// Exponent, base64url.
    e: String,
}

/// A JWKS document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct JwksJson {
    /// The keys, the signing key first.
    keys: Vec<JwkJson>,
}

/// `GET /.well-known/jwks.json`: the public keys that verify the environment's access tokens.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "Keys",
    operation_id = "jwks",
    summary = "The public keys that verify the environment's access tokens",
    params(("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    responses(
        PublicCaller,
        (status = 200, description = "The keys", body = JwksJson),
    )
)]
async fn jwks(State(gateway): State<Gateway>, PublicEnvironment(environment): PublicEnvironment) -> Response {
    let keys = gateway
        .services
        .tokens
        .jwks(environment.environment_id())
        .into_iter()
        .map(|k| JwkJson {
            kty: "RSA",
            usage: "sig",
            alg: "RS256",
            kid: k.kid,
            n: k.n,
            e: k.e,
        })
        .collect();
    Json(JwksJson { keys }).into_response()
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::{sign_in, users};

    const MARK: &str = "s3cr3t-MARK";

    /// The `Debug` output of a request body as `json` deserializes into `T`.
    fn printed<T: DeserializeOwned + std::fmt::Debug>(json: serde_json::Value) -> String {
        let body: T = serde_json::from_value(json).unwrap();
        format!("{body:?}")
    }

    #[test]
    fn request_bodies_print_their_secrets_redacted() {
        let outputs = [
            printed::<sign_in::VendorAuthentication>(serde_json::json!({"clientId": "c", "secret": MARK})),
            printed::<sign_in::PasswordLogin>(
                serde_json::json!({"email": "ann@example.com", "password": MARK}),
            ),
            printed::<sign_in::RefreshBody>(serde_json::json!({"refreshToken": MARK})),
            printed::<sign_in::ActivateBody>(
                serde_json::json!({"userId": "u", "token": MARK, "password": MARK, "code": MARK}),
            ),
            printed::<sign_in::StrategyQuery>(serde_json::json!({"userId": "u", "token": MARK})),
            printed::<users::CreateUserRequest>(
                serde_json::json!({"email": "ann@example.com", "password": MARK}),
            ),
            printed::<users::CreateVendorUserRequest>(
                serde_json::json!({"email": "ann@example.com", "tenantId": "t", "password": MARK}),
            ),
        ];
        for output in &outputs {
            assert!(!output.contains(MARK), "a secret leaked: {output}");
            assert!(output.contains("[redacted]"), "{output}");
        }
    }
}

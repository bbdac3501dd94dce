//! Environment authentication, sign-in and activation at the contract's paths
//! (env-auth.yml; identity.yml "General" and the activation operations of "User Management").
//! Sign-ins also hand the refresh token to browsers as an HttpOnly cookie, which refresh and
//! logout read when the body carries no token.

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Gateway,
    error::{
        ApiError, EnvironmentCaller, ErrorBody, JsonBody, JsonBodyErrors, LimitedAttempts, PublicCaller,
        QueryParams,
    },
    params::{TENANT_HEADER, header},
};
use crate::{
    domain::{
        Error,
        configuration::CookieSameSite,
        environment::Environment,
        error::AuthFailure,
        scope::Scope,
        secret::Secret,
        session::{Authentication, ClientInfo},
    },
    service::activation::Activate,
    transport::{
        headers::{bearer, client_info},
        policy::{Caller, SignedIn},
    },
};

/// The caller the route layer authorized by the route's policy (see `guarded`).
fn caller(parts: &Parts) -> Result<&Caller, ApiError> {
    // Absent only on a route without a policy, which `guarded` refuses: never serve it unchecked.
    parts
        .extensions
        .get::<Caller>()
        .ok_or_else(|| Error::Unauthenticated(AuthFailure::MissingToken).into())
}

/// The scope of a request, whoever its caller: for a public request, the environment its
/// `frontegg-vendor-host` header names, else the default.
pub struct PublicEnvironment(pub Scope);

impl FromRequestParts<Gateway> for PublicEnvironment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Gateway) -> Result<Self, Self::Rejection> {
        let scope = caller(parts)?.scope().cloned();
        Ok(Self(
            scope.ok_or(Error::Unauthenticated(AuthFailure::MissingToken))?,
        ))
    }
}

/// The scope of a management request, by its environment token (bearer, or `x-access-token`).
pub struct CallingEnvironment(pub Scope);

impl FromRequestParts<Gateway> for CallingEnvironment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Gateway) -> Result<Self, Self::Rejection> {
        match caller(parts)? {
            Caller::Environment(scope) => Ok(Self(scope.clone())),
            _ => Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
        }
    }
}

/// The signed-in user of a request, by its bearer access token.
pub struct CallingUser(pub SignedIn);

impl FromRequestParts<Gateway> for CallingUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Gateway) -> Result<Self, Self::Rejection> {
        match caller(parts)? {
            Caller::User(user) => Ok(Self((**user).clone())),
            _ => Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
        }
    }
}

/// The caller of a route open to environments and to users, with the tenant it acts in: a
/// user's is the tenant of its session (whatever the headers say); an environment names one with
/// `frontegg-tenant-id`, or none.
pub struct Acting {
    /// The environment; for a user, narrowed to the tenant of its session.
    pub scope: Scope,
    /// The tenant the request acts in.
    pub tenant: Option<String>,
}

impl FromRequestParts<Gateway> for Acting {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Gateway) -> Result<Self, Self::Rejection> {
        let caller = caller(parts)?;
        match caller {
            Caller::User(_) | Caller::Environment(_) => Ok(Self {
                scope: caller
                    .scope()
                    .cloned()
                    .ok_or(Error::Unauthenticated(AuthFailure::MissingToken))?,
                tenant: caller.tenant(header(&parts.headers, TENANT_HEADER)?),
            }),
            _ => Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
        }
    }
}

/// The caller's client information.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(Self(client_info(&parts.headers, ip)))
    }
}

/// Name of the refresh-token cookie of an environment, as Frontegg's SDKs expect it.
pub fn refresh_cookie_name(environment: &Environment) -> String {
    format!("fe_refresh_{}", environment.client_id.replace('-', ""))
}

impl Gateway {
    fn refresh_cookie(&self, environment: &Environment, value: String, max_age_secs: i64) -> Cookie<'static> {
        // As the identity configuration says; by default, None when the cookie is Secure (a
        // cross-site browser app can only send a SameSite=None cookie, which browsers accept
        // only when Secure), and over plain local HTTP Lax, the most that works there.
        let same_site = match self
            .services
            .configurations
            .cookie_same_site(&environment.identity)
        {
            CookieSameSite::Strict => SameSite::Strict,
            CookieSameSite::Lax => SameSite::Lax,
            CookieSameSite::None => SameSite::None,
        };
        Cookie::build((refresh_cookie_name(environment), value))
            .path("/")
            .http_only(true)
            .secure(self.cookie_secure)
            .same_site(same_site)
            .max_age(cookie::time::Duration::seconds(max_age_secs))
            .build()
    }

    /// The response to a completed sign-in: the contract's body and the refresh cookie.
    fn signed_in(
        &self,
        environment: &Environment,
        jar: CookieJar,
        status: StatusCode,
        auth: Authentication,
    ) -> Response {
        let cookie = self.refresh_cookie(
            environment,
            auth.refresh_token.expose().to_owned(),
            environment.settings.refresh_token_ttl_secs,
        );
        (status, jar.add(cookie), Json(AuthenticationResponse::from(auth))).into_response()
    }
}

/// The contract's MFA devices of a user (none can be enrolled yet).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct MfaDevices {
    /// WebAuthn devices.
    #[schema(value_type = Vec<Object>)]
    webauthn: Vec<serde_json::Value>,
    /// Phones.
    #[schema(value_type = Vec<Object>)]
    phones: Vec<serde_json::Value>,
    /// Authenticator apps.
    #[schema(value_type = Vec<Object>)]
    authenticators: Vec<serde_json::Value>,
    /// Email addresses.
    #[schema(value_type = Vec<Object>)]
    emails: Vec<serde_json::Value>,
}

/// The contract's `AuthenticationResponseDto` for a completed sign-in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponse {
    /// Always `bearer`.
    token_type: &'static str,
    /// Whether a second factor must follow (never yet).
    mfa_required: bool,
    /// Whether a second factor is enrolled.
    mfa_enrolled: bool,
    /// Enrolled second factors.
    mfa_devices: MfaDevices,
    /// The access token (a JWT).
    #[schema(value_type = String)]
    access_token: Secret,
    /// The refresh token, also set as an HttpOnly cookie.
    #[schema(value_type = String)]
    refresh_token: Secret,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// When the access token expires.
    expires: String,
    /// The user's id.
    user_id: String,
    /// The user's email.
    user_email: String,
    /// Whether the email is verified.
    email_verified: bool,
}

impl From<Authentication> for AuthenticationResponse {
    fn from(auth: Authentication) -> Self {
        Self {
            token_type: "bearer",
            mfa_required: false,
            mfa_enrolled: false,
            mfa_devices: MfaDevices::default(),
            access_token: auth.access_token,
            refresh_token: auth.refresh_token,
            expires_in: auth.expires_in,
            expires: auth.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            user_id: auth.user_id,
            user_email: auth.user_email,
            email_verified: auth.email_verified,
        }
    }
}

/// `VendorAuthenticationRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorAuthentication {
    /// The environment's client id.
    client_id: String,
    /// The environment's secret.
    #[schema(value_type = String)]
    secret: Secret,
}

/// `VendorAuthenticationResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VendorToken {
    /// The environment token.
    #[schema(value_type = String)]
    token: Secret,
    /// Seconds until it expires.
    expires_in: i64,
}

/// `POST /auth/vendor`: environment credentials for an environment token.
#[utoipa::path(
    post,
    path = "/auth/vendor",
    tag = "Environment authentication",
    operation_id = "authenticate_vendor",
    summary = "Exchange environment credentials for an environment token",
    request_body = VendorAuthentication,
    responses(
        JsonBodyErrors,
        (status = 200, description = "An environment token", body = VendorToken),
        (status = 400, description = "A field is missing or of the wrong type", body = ErrorBody),
        (status = 401, description = "Wrong client id or secret", body = ErrorBody),
    )
)]
pub async fn authenticate_vendor(
    State(gateway): State<Gateway>,
    JsonBody(body): JsonBody<VendorAuthentication>,
) -> Result<Response, ApiError> {
    let token = gateway
        .services
        .environments
        .authenticate(&body.client_id, body.secret.expose())
        .await?;
    Ok(Json(VendorToken {
        token: token.token,
        expires_in: token.expires_in,
    })
    .into_response())
}

/// `AuthenticateUserPasswordDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordLogin {
    /// The user's email.
    #[serde(default)]
    email: Option<String>,
    /// Username: not supported yet.
    #[serde(default)]
    username: Option<String>,
    /// The password.
    #[schema(value_type = String)]
    password: Secret,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    recaptcha_token: Option<String>,
    /// Invitations: not supported yet.
    #[serde(default)]
    invitation_token: Option<String>,
}

/// `POST /identity/resources/auth/v1/user`: password login.
#[utoipa::path(
    post,
    path = "/identity/resources/auth/v1/user",
    tag = "General",
    operation_id = "AuthenticatioAuthenticationControllerV1_authenticateLocalUser",
    summary = "Sign in with email and password",
    params(("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    request_body = PasswordLogin,
    responses(
        PublicCaller, JsonBodyErrors, LimitedAttempts,
        (status = 200, description = "Signed in; the refresh token is also set as a cookie", body = AuthenticationResponse),
        (status = 400, description = "A field is missing, invalid or not supported", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "The user may not sign in (locked, not activated, no tenant)", body = ErrorBody),
    )
)]
pub async fn login(
    State(gateway): State<Gateway>,
    PublicEnvironment(environment): PublicEnvironment,
    Client(client): Client,
    jar: CookieJar,
    JsonBody(body): JsonBody<PasswordLogin>,
) -> Result<Response, ApiError> {
    if body.username.is_some() && body.email.is_none() {
        return Err(Error::invalid("username", "sign-in by username is not supported; send email").into());
    }
    if body.invitation_token.is_some() {
        return Err(Error::invalid("invitation_token", "invitations are not supported yet").into());
    }
    let email = body.email.unwrap_or_default();
    let auth = gateway
        .services
        .sign_in
        .login(&environment, &email, body.password.expose(), client)
        .await?;
    Ok(gateway.signed_in(environment.environment(), jar, StatusCode::OK, auth))
}

/// `RefreshTokenDto`: empty in the contract, where the token travels in the cookie; callers
/// without cookies (backends) may send it in the body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshBody {
    /// The refresh token, when not sent as the cookie.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    refresh_token: Option<Secret>,
}

/// The refresh token of a request: from the body, else from the environment's cookie. A browser
/// sends the cookie whichever page makes the request, so the cookie counts only from a page of an
/// allowed origin (`Origin`, which browsers always send on a POST); a token in the body needs no
/// such check, as no other page can read it.
fn presented_refresh_token(
    gateway: &Gateway,
    environment: &Environment,
    headers: &HeaderMap,
    jar: &CookieJar,
    body: RefreshBody,
) -> Result<Option<Secret>, Error> {
    if let Some(token) = body.refresh_token.filter(|t| !t.is_empty()) {
        return Ok(Some(token));
    }
    let Some(cookie) = jar
        .get(&refresh_cookie_name(environment))
        .map(|c| Secret::new(c.value()))
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let origin = headers.get(axum::http::header::ORIGIN);
    let allowed = origin.is_some_and(|origin| {
        gateway
            .cookie_origins
            .iter()
            .any(|allowed| allowed.as_bytes().eq_ignore_ascii_case(origin.as_bytes()))
    });
    if !allowed {
        return Err(Error::PermissionDenied {
            reason: "ORIGIN_NOT_ALLOWED",
            message: "the refresh cookie is accepted only from the pages of an allowed origin",
        });
    }
    Ok(Some(cookie))
}

/// An optional JSON body: absent or empty reads as the default.
pub struct OptionalJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default> axum::extract::FromRequest<Gateway> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        gateway: &Gateway,
    ) -> Result<Self, Self::Rejection> {
        let has_body = request
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_none_or(|len| len != "0")
            && request.headers().contains_key(axum::http::header::CONTENT_TYPE);
        if !has_body {
            return Ok(Self(T::default()));
        }
        let JsonBody(value) = JsonBody::<T>::from_request(request, gateway).await?;
        Ok(Self(value))
    }
}

/// `POST /identity/resources/auth/v1/user/token/refresh`: refresh-token rotation.
#[utoipa::path(
    post,
    path = "/identity/resources/auth/v1/user/token/refresh",
    tag = "General",
    operation_id = "AuthenticatioAuthenticationControllerV1_refreshToken",
    summary = "Exchange the refresh token (cookie or body) for new tokens",
    params(("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    request_body(content = Option<RefreshBody>, description = "Optional: the token may come in the cookie instead"),
    responses(
        PublicCaller, JsonBodyErrors,
        (status = 201, description = "New tokens; the new refresh token is also set as a cookie", body = AuthenticationResponse),
        (status = 400, description = "The body cannot be read", body = ErrorBody),
        (status = 401, description = "No refresh token, or an invalid, expired or reused one", body = ErrorBody),
        (status = 403, description = "The user may no longer sign in, or the cookie came from a page of an origin not allowed", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(gateway): State<Gateway>,
    PublicEnvironment(environment): PublicEnvironment,
    headers: HeaderMap,
    jar: CookieJar,
    OptionalJson(body): OptionalJson<RefreshBody>,
) -> Result<Response, ApiError> {
    let token = presented_refresh_token(&gateway, environment.environment(), &headers, &jar, body)?
        .ok_or(Error::Unauthenticated(AuthFailure::MissingToken))?;
    let auth = gateway
        .services
        .sign_in
        .refresh(&environment, token.expose())
        .await?;
    Ok(gateway.signed_in(environment.environment(), jar, StatusCode::CREATED, auth))
}

/// `POST /identity/resources/auth/v1/logout`: ends the session of the refresh cookie (or of the
/// refresh token in the body, or of the bearer access token) and clears the cookie.
#[utoipa::path(
    post,
    path = "/identity/resources/auth/v1/logout",
    tag = "General",
    operation_id = "AuthenticatioAuthenticationControllerV1_logout",
    summary = "End the session and clear the refresh cookie",
    params(("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    request_body(content = Option<RefreshBody>, description = "Optional: the token may come in the cookie or as a bearer access token"),
    responses(
        PublicCaller, JsonBodyErrors,
        (status = 201, description = "Signed out"),
        (status = 400, description = "The body cannot be read", body = ErrorBody),
        (status = 401, description = "No token, or an invalid one", body = ErrorBody),
        (status = 403, description = "The cookie came from a page of an origin not allowed", body = ErrorBody),
    )
)]
pub async fn logout(
    State(gateway): State<Gateway>,
    PublicEnvironment(environment): PublicEnvironment,
    headers: HeaderMap,
    jar: CookieJar,
    OptionalJson(body): OptionalJson<RefreshBody>,
) -> Result<Response, ApiError> {
    let sign_in = &gateway.services.sign_in;
    match (
        presented_refresh_token(&gateway, environment.environment(), &headers, &jar, body)?,
        bearer(&headers),
    ) {
        (Some(refresh_token), _) => sign_in.logout(&environment, refresh_token.expose()).await?,
        (None, Some(access_token)) => sign_in.logout_access_token(&environment, access_token).await?,
        (None, None) => return Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
    }
    let expired = gateway.refresh_cookie(environment.environment(), String::new(), 0);
    Ok((StatusCode::CREATED, jar.add(expired)).into_response())
}

/// `ActivateUserDto` and `ActivateUserWithCodeDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivateBody {
    /// The user's id.
    user_id: String,
    /// The activation token.
    #[schema(value_type = String)]
    token: Secret,
    /// The password to set; required when the user has none.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    password: Option<Secret>,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    recaptcha_token: Option<String>,
    /// When the user accepted the terms (RFC 3339).
    #[serde(default)]
    last_terms_check: Option<String>,
    /// The activation code (the `/code` route only, where it is required).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    code: Option<Secret>,
}

async fn activate(
    gateway: Gateway,
    environment: Scope,
    client: ClientInfo,
    jar: CookieJar,
    body: ActivateBody,
    code: Option<Secret>,
) -> Result<Response, ApiError> {
    let activate = Activate {
        user_id: body.user_id,
        token: body.token,
        password: body.password.filter(|p| !p.is_empty()),
        code,
        last_terms_check: body.last_terms_check.unwrap_or_default(),
    };
    let auth = gateway
        .services
        .activation
        .activate(&environment, activate, client)
        .await?;
    Ok(gateway.signed_in(environment.environment(), jar, StatusCode::OK, auth))
}

/// `POST /identity/resources/users/v1/activate`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/activate",
    tag = "User Management",
    operation_id = "UsersActivationControllerV1_activateUser",
    summary = "Activate an invited user and sign it in",
    params(("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    request_body = ActivateBody,
    responses(
        PublicCaller, JsonBodyErrors,
        (status = 200, description = "Activated and signed in; the refresh token is also set as a cookie", body = AuthenticationResponse),
        (status = 400, description = "A field is missing or invalid, the token or code is wrong, or the user is already activated", body = ErrorBody),
        (status = 403, description = "The user may not sign in", body = ErrorBody),
    )
)]
pub async fn activate_user(
    State(gateway): State<Gateway>,
    PublicEnvironment(environment): PublicEnvironment,
    Client(client): Client,
    jar: CookieJar,
    JsonBody(body): JsonBody<ActivateBody>,
) -> Result<Response, ApiError> {
    activate(gateway, environment, client, jar, body, None).await
}

/// `POST /identity/resources/users/v1/activate/code`.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/activate/code",
    tag = "User Management",
    operation_id = "UsersActivationControllerV1_activateUserWithCode",
    summary = "Activate an invited user with its token and code, and sign it in",
    params(("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    request_body = ActivateBody,
    responses(
        PublicCaller, JsonBodyErrors,
        (status = 200, description = "Activated and signed in; the refresh token is also set as a cookie", body = AuthenticationResponse),
        (status = 400, description = "A field is missing or invalid, the token or code is wrong, or the user is already activated", body = ErrorBody),
        (status = 403, description = "The user may not sign in", body = ErrorBody),
    )
)]
pub async fn activate_user_with_code(
    State(gateway): State<Gateway>,
    PublicEnvironment(environment): PublicEnvironment,
    Client(client): Client,
    jar: CookieJar,
    JsonBody(mut body): JsonBody<ActivateBody>,
) -> Result<Response, ApiError> {
    let code = body
        .code
        .take()
        .ok_or_else(|| Error::invalid("code", "is required"))?;
    activate(gateway, environment, client, jar, body, Some(code)).await
}

/// Query of `GET /identity/resources/users/v1/activate/strategy`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StrategyQuery {
    /// The user's id.
    user_id: String,
    /// The activation token.
    #[param(value_type = String)]
    token: Secret,
}

/// `GetActivateStrategyResponseDto`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    /// Whether activation must set a password.
    should_set_password: bool,
}

/// `GET /identity/resources/users/v1/activate/strategy`.
#[utoipa::path(
    get,
    path = "/identity/resources/users/v1/activate/strategy",
    tag = "User Management",
    operation_id = "UsersActivationControllerV1_getActivationStrategy",
    summary = "Whether activating this user needs a password",
    params(StrategyQuery, ("frontegg-vendor-host" = Option<String>, Header, description = "Selects the environment; the default one when absent")),
    responses(
        PublicCaller,
        (status = 200, description = "The strategy", body = Strategy),
        (status = 400, description = "A parameter is missing, the token is wrong, or the user is already activated", body = ErrorBody),
    )
)]
pub async fn activation_strategy(
    State(gateway): State<Gateway>,
    PublicEnvironment(environment): PublicEnvironment,
    QueryParams(query): QueryParams<StrategyQuery>,
) -> Result<Response, ApiError> {
    let should_set_password = gateway
        .services
        .activation
        .should_set_password(&environment, &query.user_id, query.token.expose())
        .await?;
    Ok(Json(Strategy { should_set_password }).into_response())
}

/// `ResetActivationTokenDto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetBody {
    /// The user's email.
    email: String,
    /// Values for the email's template.
    #[schema(value_type = Object)]
    email_metadata: serde_json::Map<String, serde_json::Value>,
}

/// `POST /identity/resources/users/v1/activate/reset`: a new activation token, mailed; the old
/// one stops working. Answers alike whether or not the email names a pending user.
#[utoipa::path(
    post,
    path = "/identity/resources/users/v1/activate/reset",
    tag = "User Management",
    operation_id = "UsersActivationControllerV1_resetActivationToken",
    summary = "Mail a new activation token to a user not yet activated",
    security(("environmentToken" = [])),
    request_body = ResetBody,
    responses(
        EnvironmentCaller, JsonBodyErrors,
        (status = 201, description = "Done (alike whether or not the email names a pending user)"),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
    )
)]
pub async fn reset_activation_token(
    State(gateway): State<Gateway>,
    CallingEnvironment(environment): CallingEnvironment,
    JsonBody(body): JsonBody<ResetBody>,
) -> Result<Response, ApiError> {
    gateway
        .services
        .activation
        .reset(&environment, &body.email, body.email_metadata.into())
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

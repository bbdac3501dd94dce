//! `identity.v1.AuthService`.

use tonic::{Request, Response, Status};

use super::{
    context::{bearer_token, client_info},
    pb::{self, auth_service_server::AuthService},
};
use crate::{
    domain::{Error, error::AuthFailure, session::Authentication},
    service::SignIn,
};

/// gRPC face of sign-in.
pub struct AuthApi {
    sign_in: SignIn,
}

impl AuthApi {
    /// Serves `sign_in`.
    pub fn new(sign_in: SignIn) -> Self {
        Self { sign_in }
    }
}

/// The contract's authentication response for a completed sign-in (no second factor yet).
pub fn authentication(auth: Authentication) -> pb::AuthenticationResponse {
    pb::AuthenticationResponse {
        token_type: "bearer".into(),
        mfa_devices: Some(pb::MfaDevices::default()),
        access_token: auth.access_token.into_exposed(),
        refresh_token: auth.refresh_token.into_exposed(),
        expires_in: auth.expires_in,
        expires: auth.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        user_id: auth.user_id,
        user_email: auth.user_email,
        email_verified: auth.email_verified,
        ..Default::default()
    }
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn login(&self, request: Request<pb::LoginRequest>) -> Result<Response<pb::LoginResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let client = client_info(&request);
        let r = request.into_inner();
        let auth = self
            .sign_in
            .login(&environment, &r.email, &r.password, client)
            .await?;
        Ok(Response::new(pb::LoginResponse {
            authentication: Some(authentication(auth)),
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let auth = self
            .sign_in
            .refresh(&environment, &request.into_inner().refresh_token)
            .await?;
        Ok(Response::new(pb::RefreshTokenResponse {
            authentication: Some(authentication(auth)),
        }))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let access_token = bearer_token(&request);
        let refresh_token = request.into_inner().refresh_token;
        match (refresh_token.as_str(), access_token) {
            ("", Some(access_token)) => {
                self.sign_in
                    .logout_access_token(&environment, &access_token)
                    .await?
            }
            ("", None) => return Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
            (refresh_token, _) => self.sign_in.logout(&environment, refresh_token).await?,
        }
        Ok(Response::new(pb::LogoutResponse {}))
    }
}

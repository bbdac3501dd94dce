//! `identity.v1.TokenService`.

use tonic::{Request, Response, Status};

use super::pb::{self, token_service_server::TokenService};
use crate::{domain::Error, service::Tokens, transport::policy};

/// gRPC face of keys and token validation.
pub struct TokenApi {
    tokens: Tokens,
}

impl TokenApi {
    /// Serves `tokens`.
    pub fn new(tokens: Tokens) -> Self {
        Self { tokens }
    }
}

#[tonic::async_trait]
impl TokenService for TokenApi {
    async fn get_jwks(
        &self,
        request: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let keys = self
            .tokens
            .jwks(environment.environment_id())
            .into_iter()
            .map(|key| pb::Jwk {
                kty: "RSA".into(),
                kid: key.kid,
                r#use: "sig".into(),
                alg: "RS256".into(),
                n: key.n,
                e: key.e,
            })
            .collect();
        Ok(Response::new(pb::GetJwksResponse { keys }))
    }

    async fn validate_token(
        &self,
        request: Request<pb::ValidateTokenRequest>,
    ) -> Result<Response<pb::ValidateTokenResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let request = request.into_inner();
        let claims = self
            .tokens
            .validate(environment.environment_id(), &request.access_token)
            .await?;
        let access = self.tokens.access_of(&environment, &claims).await?;
        let holds_role = |role: &String| access.roles.contains(role);
        if !request.any_of_roles.is_empty() && !request.any_of_roles.iter().any(holds_role) {
            return Err(Error::PermissionDenied {
                reason: "MISSING_ROLE",
                message: "the token carries none of the roles asked for",
            }
            .into());
        }
        let grants = |needed: &String| access.permissions.iter().any(|held| policy::grants(held, needed));
        if !request.any_of_permissions.is_empty() && !request.any_of_permissions.iter().any(grants) {
            return Err(Error::MissingPermission(request.any_of_permissions.join(",")).into());
        }
        Ok(Response::new(pb::ValidateTokenResponse {
            sub: claims.sub,
            sid: claims.sid,
            r#type: claims.token_type,
            iss: claims.iss,
            aud: claims.aud,
            iat: claims.iat,
            exp: claims.exp,
            email: claims.email,
            email_verified: claims.email_verified,
            name: claims.name,
            tenant_id: claims.tenant_id,
            tenant_ids: claims.tenant_ids,
            roles: access.roles,
            permissions: access.permissions,
            metadata: claims.metadata.to_string(),
            profile_picture_url: claims.profile_picture_url.unwrap_or_default(),
            application_id: claims.application_id,
        }))
    }
}

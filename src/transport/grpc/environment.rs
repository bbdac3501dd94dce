//! `identity.v1.EnvironmentAuthService`.

use tonic::{Request, Response, Status};

use super::pb::{self, environment_auth_service_server::EnvironmentAuthService};
use crate::service::Environments;

/// gRPC face of environment authentication.
pub struct EnvironmentAuthApi {
    environments: Environments,
}

impl EnvironmentAuthApi {
    /// Serves `environments`.
    pub fn new(environments: Environments) -> Self {
        Self { environments }
    }
}

#[tonic::async_trait]
impl EnvironmentAuthService for EnvironmentAuthApi {
    async fn authenticate_vendor(
        &self,
        request: Request<pb::AuthenticateVendorRequest>,
    ) -> Result<Response<pb::AuthenticateVendorResponse>, Status> {
        let request = request.into_inner();
        let token = self
            .environments
            .authenticate(&request.client_id, &request.secret)
            .await?;
        Ok(Response::new(pb::AuthenticateVendorResponse {
            token: token.token.into_exposed(),
            expires_in: token.expires_in,
        }))
    }
}

//! `identity.v1.EnvironmentAdminService`, which only the deployment's administrator credential
//! reaches (its RPCs' policy allows the operator alone).

use tonic::{Request, Response, Status};

use super::{
    convert::{text, timestamp},
    pb::{self, environment_admin_service_server::EnvironmentAdminService},
};
use crate::{
    domain::environment::{CreateEnvironment, UpdateEnvironment},
    service::{Environments, environments::AdministeredEnvironment},
};

impl From<AdministeredEnvironment> for pb::Environment {
    fn from(administered: AdministeredEnvironment) -> Self {
        let environment = administered.environment;
        Self {
            id: environment.id,
            name: environment.name,
            client_id: environment.client_id,
            host: text(environment.host),
            is_default: administered.is_default,
            created_at: Some(timestamp(environment.created_at)),
            updated_at: Some(timestamp(environment.updated_at)),
        }
    }
}

/// gRPC face of environment administration.
pub struct EnvironmentAdminApi {
    environments: Environments,
}

impl EnvironmentAdminApi {
    /// Serves `environments`.
    pub fn new(environments: Environments) -> Self {
        Self { environments }
    }
}

#[tonic::async_trait]
impl EnvironmentAdminService for EnvironmentAdminApi {
    async fn create_environment(
        &self,
        request: Request<pb::CreateEnvironmentRequest>,
    ) -> Result<Response<pb::CreateEnvironmentResponse>, Status> {
        let request = request.into_inner();
        let (created, secret) = self
            .environments
            .create(CreateEnvironment {
                name: request.name,
                host: request.host,
                client_id: request.client_id,
            })
            .await?;
        Ok(Response::new(pb::CreateEnvironmentResponse {
            environment: Some(created.into()),
            secret: secret.into_exposed(),
        }))
    }

    async fn list_environments(
        &self,
        _request: Request<pb::ListEnvironmentsRequest>,
    ) -> Result<Response<pb::ListEnvironmentsResponse>, Status> {
        let environments = self.environments.list().await?;
        Ok(Response::new(pb::ListEnvironmentsResponse {
            environments: environments.into_iter().map(Into::into).collect(),
        }))
    }

    async fn get_environment(
        &self,
        request: Request<pb::GetEnvironmentRequest>,
    ) -> Result<Response<pb::GetEnvironmentResponse>, Status> {
        let environment = self.environments.describe(&request.into_inner().id).await?;
        Ok(Response::new(pb::GetEnvironmentResponse {
            environment: Some(environment.into()),
        }))
    }

    async fn update_environment(
        &self,
        request: Request<pb::UpdateEnvironmentRequest>,
    ) -> Result<Response<pb::UpdateEnvironmentResponse>, Status> {
        let request = request.into_inner();
        let environment = self
            .environments
            .update(
                &request.id,
                UpdateEnvironment {
                    name: request.name,
                    host: request.host,
                },
            )
            .await?;
        Ok(Response::new(pb::UpdateEnvironmentResponse {
            environment: Some(environment.into()),
        }))
    }

    async fn rotate_environment_secret(
        &self,
        request: Request<pb::RotateEnvironmentSecretRequest>,
    ) -> Result<Response<pb::RotateEnvironmentSecretResponse>, Status> {
        let (environment, secret) = self.environments.rotate_secret(&request.into_inner().id).await?;
        Ok(Response::new(pb::RotateEnvironmentSecretResponse {
            environment: Some(environment.into()),
            secret: secret.into_exposed(),
        }))
    }

    async fn delete_environment(
        &self,
        request: Request<pb::DeleteEnvironmentRequest>,
    ) -> Result<Response<pb::DeleteEnvironmentResponse>, Status> {
        self.environments.delete(&request.into_inner().id).await?;
        Ok(Response::new(pb::DeleteEnvironmentResponse {}))
    }
}

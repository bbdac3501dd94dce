//! `identity.v1.EnvironmentAdminService`, and the layer that lets only the deployment's
//! administrator credential reach it.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tonic::{Request, Response, Status, body::Body, server::NamedService};
use tower::{Layer, Service};

use super::{
    convert::{text, timestamp},
    pb::{self, environment_admin_service_server::EnvironmentAdminService},
};
use crate::{
    domain::{
        admin::AdminToken,
        environment::{CreateEnvironment, UpdateEnvironment},
    },
    service::{Environments, environments::AdministeredEnvironment},
    transport::headers::bearer,
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
    /// Serves `environments`; wrap it in [`RequireAdmin`].
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

/// Lets through only requests bearing the administrator credential; refuses every request when
/// none is configured.
#[derive(Clone)]
pub struct RequireAdmin {
    token: AdminToken,
}

impl RequireAdmin {
    /// A layer that checks requests against `token`.
    pub fn new(token: AdminToken) -> Self {
        Self { token }
    }
}

impl<S> Layer<S> for RequireAdmin {
    type Service = RequireAdminService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAdminService {
            inner,
            token: self.token.clone(),
        }
    }
}

/// The service [`RequireAdmin`] wraps around a gRPC service.
#[derive(Clone)]
pub struct RequireAdminService<S> {
    inner: S,
    token: AdminToken,
}

impl<S: NamedService> NamedService for RequireAdminService<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> Service<http::Request<Body>> for RequireAdminService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The clone that was polled ready is the one to call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let checked = self.token.check(bearer(request.headers()));
        Box::pin(async move {
            match checked {
                Ok(()) => inner.call(request).await,
                Err(error) => Ok(Status::from(error).into_http()),
            }
        })
    }
}

//! Environment authentication for the management services: a tower layer that checks the bearer
//! token before the request reaches the service and records the caller's environment.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tonic::{Request, Status, body::Body, server::NamedService};
use tower::{Layer, Service};

use crate::{
    domain::{Error, error::AuthFailure, scope::Scope},
    service::Environments,
};

/// The scope a request was authenticated for, by its environment token.
pub fn environment<T>(request: &Request<T>) -> Result<Scope, Status> {
    request
        .extensions()
        .get::<Scope>()
        .cloned()
        .ok_or_else(|| Error::Unauthenticated(AuthFailure::MissingToken).into())
}

/// Requires a valid environment token on every request, or, in optional mode, checks one only
/// when it is sent (so some RPCs of a service may be public).
#[derive(Clone)]
pub struct RequireEnvironment {
    environments: Environments,
    optional: bool,
}

impl RequireEnvironment {
    /// A layer that requires tokens, checked with `environments`.
    pub fn new(environments: Environments) -> Self {
        Self {
            environments,
            optional: false,
        }
    }

    /// A layer that checks a token when one is sent and lets requests without one through; the
    /// RPCs that need it call [`environment`].
    pub fn optional(environments: Environments) -> Self {
        Self {
            environments,
            optional: true,
        }
    }
}

impl<S> Layer<S> for RequireEnvironment {
    type Service = RequireEnvironmentService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireEnvironmentService {
            inner,
            environments: self.environments.clone(),
            optional: self.optional,
        }
    }
}

/// The service [`RequireEnvironment`] wraps around a gRPC service.
#[derive(Clone)]
pub struct RequireEnvironmentService<S> {
    inner: S,
    environments: Environments,
    optional: bool,
}

impl<S: NamedService> NamedService for RequireEnvironmentService<S> {
    const NAME: &'static str = S::NAME;
}

pub use crate::transport::headers::bearer;

impl<S> Service<http::Request<Body>> for RequireEnvironmentService<S>
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

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        // The clone that was polled ready is the one to call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let environments = self.environments.clone();
        let optional = self.optional;
        Box::pin(async move {
            let verified = match bearer(request.headers()) {
                Some(token) => environments.verify_token(token).await,
                None if optional => return inner.call(request).await,
                None => Err(Error::Unauthenticated(AuthFailure::MissingToken)),
            };
            match verified {
                Ok(scope) => {
                    request.extensions_mut().insert(scope);
                    inner.call(request).await
                }
                Err(error) => Ok(Status::from(error).into_http()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_taken_from_the_authorization_header() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(http::header::AUTHORIZATION, "Bearer abc.def".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc.def"));
        headers.insert(http::header::AUTHORIZATION, "bearer  xyz".parse().unwrap());
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert(http::header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}

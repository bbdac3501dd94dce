//! The gRPC side of the declared policies (`transport::policy`): a tower layer over every
//! service that authorizes each request of package `identity.v1` by its RPC's policy before the
//! service sees it, and leaves the [`Caller`] in the request's extensions.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tonic::{Request, Status, body::Body};
use tower::{Layer, Service};

use crate::{
    domain::{Error, error::AuthFailure, scope::Scope},
    transport::policy::{self, Authorizer, Caller},
};

/// The caller of a request, as the layer authorized it.
pub fn caller<T>(request: &Request<T>) -> Result<&Caller, Status> {
    // Absent only for a service the layer does not wrap: refuse rather than serve it unchecked.
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| Error::Unauthenticated(AuthFailure::MissingToken).into())
}

/// The environment of a request made with an environment token.
pub fn environment<T>(request: &Request<T>) -> Result<Scope, Status> {
    match caller(request)? {
        Caller::Environment(scope) => Ok(scope.clone()),
        _ => Err(Error::Unauthenticated(AuthFailure::MissingToken).into()),
    }
}

/// The environment a request acts in, whoever its caller.
pub fn scope<T>(request: &Request<T>) -> Result<Scope, Status> {
    caller(request)?
        .scope()
        .cloned()
        .ok_or_else(|| Error::Unauthenticated(AuthFailure::MissingToken).into())
}

/// Authorizes every request of package `identity.v1` by the policy of its RPC; requests of other
/// packages (health, reflection) pass untouched, and a path that names no RPC is left to the
/// server, which answers UNIMPLEMENTED.
#[derive(Clone)]
pub struct Authorize {
    authorizer: Authorizer,
}

impl Authorize {
    /// A layer that checks requests with `authorizer`.
    pub fn new(authorizer: Authorizer) -> Self {
        Self { authorizer }
    }
}

impl<S> Layer<S> for Authorize {
    type Service = AuthorizeService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthorizeService {
            inner,
            authorizer: self.authorizer.clone(),
        }
    }
}

/// The service [`Authorize`] wraps around the gRPC server.
#[derive(Clone)]
pub struct AuthorizeService<S> {
    inner: S,
    authorizer: Authorizer,
}

impl<S, B> Service<http::Request<B>> for AuthorizeService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready is the one to call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let Some(policy) = policy::by_path(request.uri().path()) else {
            return Box::pin(inner.call(request));
        };
        let authorizer = self.authorizer.clone();
        Box::pin(async move {
            match authorizer.authorize(policy, request.headers()).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(error) => Ok(Status::from(error).into_http()),
            }
        })
    }
}

pub use crate::transport::headers::bearer;

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

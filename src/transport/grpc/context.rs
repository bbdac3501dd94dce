//! What public RPCs learn from a request's metadata: the environment it is for and the client.

use tonic::{Request, Status};

use crate::{
    domain::{scope::Scope, session::ClientInfo},
    service::Environments,
};

use crate::transport::headers;
pub use crate::transport::headers::VENDOR_HOST;

/// The scope of a public request: the environment its vendor host names, else the default one.
pub async fn environment_for<T>(request: &Request<T>, environments: &Environments) -> Result<Scope, Status> {
    let host = request.metadata().get(VENDOR_HOST).and_then(|v| v.to_str().ok());
    Ok(environments.resolve(host).await?)
}

/// The client's user agent and address, as recorded on its session.
pub fn client_info<T>(request: &Request<T>) -> ClientInfo {
    headers::client_info(
        request.metadata().as_ref(),
        request.remote_addr().map(|addr| addr.ip()),
    )
}

/// The bearer token in a request's `authorization` metadata.
pub fn bearer_token<T>(request: &Request<T>) -> Option<String> {
    super::auth::bearer(request.metadata().as_ref()).map(str::to_owned)
}

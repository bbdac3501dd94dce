//! What RPCs learn from a request's metadata besides its caller: the client.

use tonic::Request;

use crate::domain::session::ClientInfo;

use crate::transport::headers;
pub use crate::transport::headers::VENDOR_HOST;

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

//! Request headers both transports read.

/// Header (gRPC metadata) naming the vendor host, which selects the environment of a public request.
pub const VENDOR_HOST: &str = "frontegg-vendor-host";

/// The bearer token of an `authorization` header.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

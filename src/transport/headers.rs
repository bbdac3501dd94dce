//! Request headers both transports read.

use crate::domain::session::ClientInfo;

/// Longest user agent recorded on a session.
const MAX_USER_AGENT: usize = 512;

/// Header (gRPC metadata) naming the vendor host, which selects the environment of a public request.
pub const VENDOR_HOST: &str = "frontegg-vendor-host";

/// The bearer token of an `authorization` header.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Header in which Frontegg's backend SDKs send the environment token.
pub const ACCESS_TOKEN: &str = "x-access-token";

/// The environment token of a management request: the bearer token, else the `x-access-token`
/// header that Frontegg's backend SDKs send instead.
pub fn environment_token(headers: &http::HeaderMap) -> Option<&str> {
    bearer(headers).or_else(|| {
        headers
            .get(ACCESS_TOKEN)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    })
}

/// The client's user agent and address, as recorded on its session.
pub fn client_info(headers: &http::HeaderMap, ip: Option<std::net::IpAddr>) -> ClientInfo {
    ClientInfo {
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        ip: ip.map(|ip| ip.to_string()),
        forwarded_for: forwarded_for(headers),
    }
}

/// Every `X-Forwarded-For` line of a request, joined by commas as one list.
fn forwarded_for(headers: &http::HeaderMap) -> Option<String> {
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!lines.is_empty()).then(|| lines.join(","))
}

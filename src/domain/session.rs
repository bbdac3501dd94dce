//! Sign-in sessions and the tokens a sign-in yields.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::secret::Secret;

/// Where a sign-in comes from, recorded on its session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The client's IP address: the peer's, until [`ClientInfo::behind`] resolves it.
    pub ip: Option<String>,
    /// The `X-Forwarded-For` header as received (its lines joined by commas), believed only when
    /// the peer is a trusted proxy.
    pub forwarded_for: Option<String>,
}

impl ClientInfo {
    /// The client's address seen through `proxies`: the peer's, or, when the peer is a trusted
    /// proxy, the nearest address of `X-Forwarded-For` that is not one (each proxy appends the
    /// address it was called from, so addresses left of the first untrusted one may be forged).
    pub fn behind(mut self, proxies: &TrustedProxies) -> Self {
        if let Some(peer) = self.ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok()) {
            let forwarded = self.forwarded_for.take().unwrap_or_default();
            let mut client = peer;
            for hop in forwarded.rsplit(',') {
                if !proxies.trusts(client) {
                    break;
                }
                match parse_hop(hop) {
                    Some(hop) => client = hop,
                    None => break,
                }
            }
            self.ip = Some(client.to_string());
        }
        self.forwarded_for = None;
        self
    }

    /// The client's address, if known.
    pub fn address(&self) -> Option<IpAddr> {
        self.ip.as_deref().and_then(|ip| ip.parse().ok())
    }
}

/// An address of `X-Forwarded-For`: bare, or with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|addr| addr.ip()))
}

/// The proxies whose `X-Forwarded-For` is believed: networks in CIDR notation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Whether `address` is a trusted proxy.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|net| net.contains(&address))
    }
}

/// A trusted proxy's network: CIDR notation, or a bare address (the network of that address
/// alone).
pub fn parse_proxy_network(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{raw:?} is not a network such as 10.0.0.0/8 or an address"))
}

/// The tokens of a successful sign-in or refresh.
#[derive(Debug, Clone)]
pub struct Authentication {
    /// The RS256 access token.
    pub access_token: Secret,
    /// The single-use refresh token.
    pub refresh_token: Secret,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Seconds from issue to expiry.
    pub expires_in: i64,
    /// The user's id.
    pub user_id: String,
    /// The user's email.
    pub user_email: String,
    /// Whether that email is verified.
    pub email_verified: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, forwarded_for: Option<&str>) -> ClientInfo {
        ClientInfo {
            user_agent: None,
            ip: Some(peer.into()),
            forwarded_for: forwarded_for.map(str::to_owned),
        }
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies(vec![
            parse_proxy_network("10.0.0.0/8").unwrap(),
            parse_proxy_network("192.0.2.7").unwrap(),
        ]);
        let seen = |peer, forwarded| client(peer, forwarded).behind(&proxies).ip.unwrap();
        // An untrusted peer is the client, whatever it forwards.
        assert_eq!(seen("203.0.113.9", Some("198.51.100.1")), "203.0.113.9");
        // A trusted peer: the nearest untrusted hop, not the forgeable leftmost one.
        assert_eq!(seen("10.1.2.3", Some("6.6.6.6, 198.51.100.1")), "198.51.100.1");
        assert_eq!(
            seen("10.1.2.3", Some("6.6.6.6, 198.51.100.1, 192.0.2.7")),
            "198.51.100.1"
        );
        assert_eq!(seen("10.1.2.3", Some("[2001:db8::1]:4711")), "2001:db8::1");
        // Nothing forwarded, or garbage: the proxy itself.
        assert_eq!(seen("10.1.2.3", None), "10.1.2.3");
        assert_eq!(seen("10.1.2.3", Some("unknown")), "10.1.2.3");
        assert_eq!(seen("::ffff:10.1.2.3", Some("198.51.100.1")), "198.51.100.1");
        assert!(parse_proxy_network("not a network").is_err());
    }

    #[test]
    fn tokens_print_redacted() {
        let authentication = Authentication {
            access_token: Secret::new("access-MARK"),
            refresh_token: Secret::new("refresh-MARK"),
            expires_at: Utc::now(),
            expires_in: 60,
            user_id: "u".into(),
            user_email: "ann@example.com".into(),
            email_verified: true,
        };
        let printed = format!("{authentication:?}");
        assert!(!printed.contains("MARK"), "{printed}");
        assert!(printed.contains("ann@example.com"), "{printed}");
    }
}

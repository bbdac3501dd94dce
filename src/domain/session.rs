//! Sign-in sessions and the tokens a sign-in yields.

use chrono::{DateTime, Utc};

use super::secret::Secret;

/// Where a sign-in comes from, recorded on its session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The client's IP address.
    pub ip: Option<String>,
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

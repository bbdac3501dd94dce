//! The deployment-level administrator credential (`SIGIL_ADMIN_TOKEN`) that guards environment
//! administration. Only its SHA-256 digest is kept; a presented token is digested and compared in
//! constant time, so neither its content nor its length shows in the time taken.

use std::fmt;

use super::{
    Error,
    error::{AuthFailure, Result},
    secret::{self, Secret},
};

/// Reason of the refusal when no administrator credential is configured.
pub const ADMIN_API_DISABLED: &str = "ADMIN_API_DISABLED";

/// The configured administrator credential, if any.
#[derive(Clone)]
pub struct AdminToken {
    digest: Option<String>,
}

impl AdminToken {
    /// The credential `configured`; `None` (or empty) refuses every request.
    pub fn new(configured: Option<&Secret>) -> Self {
        Self {
            digest: configured
                .filter(|token| !token.is_empty())
                .map(|token| secret::digest(token.expose())),
        }
    }

    /// Whether an administrator credential is configured.
    pub fn is_enabled(&self) -> bool {
        self.digest.is_some()
    }

    /// Accepts `presented` only when it is the configured credential.
    pub fn check(&self, presented: Option<&str>) -> Result<()> {
        let Some(expected) = &self.digest else {
            return Err(Error::PermissionDenied {
                reason: ADMIN_API_DISABLED,
                message: "environment administration is disabled: set SIGIL_ADMIN_TOKEN to enable it",
            });
        };
        let presented = presented.ok_or(Error::Unauthenticated(AuthFailure::MissingToken))?;
        if secret::constant_time_eq(&secret::digest(presented), expected) {
            Ok(())
        } else {
            Err(Error::Unauthenticated(AuthFailure::InvalidToken))
        }
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminToken")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_token_passes() {
        let token = AdminToken::new(Some(&Secret::new("admin-token-of-enough-length-0123")));
        assert!(token.check(Some("admin-token-of-enough-length-0123")).is_ok());
        assert_eq!(
            token
                .check(Some("admin-token-of-enough-length-0124"))
                .unwrap_err()
                .reason(),
            "INVALID_TOKEN"
        );
        assert_eq!(token.check(None).unwrap_err().reason(), "MISSING_TOKEN");
        assert!(!format!("{token:?}").contains("admin-token"));
    }

    #[test]
    fn without_a_configured_token_everything_is_refused() {
        for token in [AdminToken::new(None), AdminToken::new(Some(&Secret::new("")))] {
            assert!(!token.is_enabled());
            assert_eq!(token.check(Some("")).unwrap_err().reason(), ADMIN_API_DISABLED);
            assert_eq!(token.check(None).unwrap_err().reason(), ADMIN_API_DISABLED);
        }
    }
}

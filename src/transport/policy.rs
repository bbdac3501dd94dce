//! Who may call each operation: the `(identity.v1.policy)` every RPC declares in the proto,
//! turned by `build.rs` into [`POLICIES`], and the one check that enforces it for gRPC
//! ([`grpc::auth::Authorize`](super::grpc::auth::Authorize)) and for the REST routes of the same
//! RPC ([`rest`](super::rest)'s route layer) before any handler runs. The check leaves the
//! authenticated [`Caller`] in the request's extensions for the handler.

use crate::{
    domain::{
        Error,
        admin::AdminToken,
        error::{AuthFailure, Result},
        scope::Scope,
    },
    service::{Environments, Tokens, tokens::AccessClaims},
    transport::headers::{self, VENDOR_HOST},
};

/// A kind of caller, told apart by its credential (`identity.v1.Caller`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anyone; the environment is the one the vendor host names.
    Public,
    /// An environment, by its environment token.
    Environment,
    /// A signed-in user, by its access token.
    User,
    /// The deployment's operator, by the administrator token.
    Operator,
}

/// The access rule of one RPC.
#[derive(Debug)]
pub struct Policy {
    /// The RPC's gRPC path, `/identity.v1.UserService/GetUser`.
    pub rpc: &'static str,
    /// The kinds of caller allowed.
    pub callers: &'static [Kind],
    /// The permission a user caller must hold in the tenant of its session.
    pub permission: Option<&'static str>,
    /// The Frontegg operations (operationId) the RPC serves at the REST gateway.
    pub rest: &'static [&'static str],
}

include!(concat!(env!("OUT_DIR"), "/identity_policies.rs"));

impl Policy {
    /// The policy of the RPC that serves the REST operation `operation_id`.
    pub fn for_operation(operation_id: &str) -> Option<&'static Policy> {
        POLICIES.iter().find(|p| p.rest.contains(&operation_id))
    }

    fn allows(&self, kind: Kind) -> bool {
        self.callers.contains(&kind)
    }
}

/// Header (gRPC metadata) that the contract's gateway fills with the calling user's id.
pub const USER_HEADER: &str = "frontegg-user-id";

/// A signed-in user making a request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user's environment, narrowed to the tenant of its session.
    pub scope: Scope,
    /// The claims of its access token.
    pub claims: AccessClaims,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A caller without a credential, in the environment its vendor host names.
    Public(Scope),
    /// An environment, by its token.
    Environment(Scope),
    /// A signed-in user.
    User(Box<SignedIn>),
    /// The deployment's operator.
    Operator,
}

impl Caller {
    /// The tenant a request acts in: a user's is the tenant of its session, whatever it asks
    /// for; an environment names one (`asked`, when not empty), or none.
    pub fn tenant(&self, asked: Option<&str>) -> Option<String> {
        match self {
            Caller::User(user) => Some(user.claims.tenant_id.clone()),
            _ => asked.filter(|t| !t.is_empty()).map(str::to_owned),
        }
    }

    /// The environment the caller acts in; none for the operator, who stands above them.
    pub fn scope(&self) -> Option<&Scope> {
        match self {
            Caller::Public(scope) | Caller::Environment(scope) => Some(scope),
            Caller::User(user) => Some(&user.scope),
            Caller::Operator => None,
        }
    }
}

/// What the check needs: the verifiers of every kind of credential. Cheap to clone.
#[derive(Clone)]
pub struct Authorizer {
    environments: Environments,
    tokens: Tokens,
    admin: AdminToken,
}

/// The kind of a bearer token, read from its unverified payload only to choose the verifier:
/// the verifier then checks the signature, the audience and the type again.
fn token_kind(token: &str) -> Option<Kind> {
    use base64::Engine as _;

    #[derive(serde::Deserialize)]
    struct Typed {
        #[serde(rename = "type")]
        token_type: Option<String>,
    }
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let typed: Typed = serde_json::from_slice(&bytes).ok()?;
    match typed.token_type.as_deref() {
        Some(crate::service::tokens::USER_TOKEN) => Some(Kind::User),
        Some(crate::service::environments::TOKEN_TYPE) => Some(Kind::Environment),
        _ => None,
    }
}

/// Whether holding permission `held` grants `needed`: the same key, or a wildcard key
/// (`fe.secure.*`) whose prefix `needed` starts with, as Frontegg's SDKs match them.
pub fn grants(held: &str, needed: &str) -> bool {
    held == needed
        || held
            .strip_suffix('*')
            .is_some_and(|prefix| prefix.ends_with('.') && needed.starts_with(prefix))
}

impl Authorizer {
    /// Checks credentials with these verifiers.
    pub fn new(environments: Environments, tokens: Tokens, admin: AdminToken) -> Self {
        Self {
            environments,
            tokens,
            admin,
        }
    }

    /// The caller of a request with `headers` (HTTP headers, or gRPC metadata), if `policy`
    /// allows it: UNAUTHENTICATED without a valid credential of an allowed kind, PERMISSION_DENIED
    /// for a credential of a kind not allowed, and for a user without the policy's permission
    /// (named in the error).
    pub async fn authorize(&self, policy: &Policy, headers: &http::HeaderMap) -> Result<Caller> {
        if policy.allows(Kind::Operator) {
            // The administrator token is no JWT: it is compared, never parsed.
            self.admin.check(headers::bearer(headers))?;
            return Ok(Caller::Operator);
        }
        let token = headers::environment_token(headers);
        let kind = token.and_then(token_kind);
        match (token, kind) {
            (Some(token), Some(Kind::Environment)) if policy.allows(Kind::Environment) => {
                Ok(Caller::Environment(self.environments.verify_token(token).await?))
            }
            (Some(token), Some(Kind::User)) if policy.allows(Kind::User) => {
                self.user(policy, headers, token).await
            }
            // Public operations ignore a credential they do not need (Frontegg's browser SDK sends
            // its access token with every request, sign-in and refresh included).
            _ if policy.allows(Kind::Public) => {
                let host = headers.get(VENDOR_HOST).and_then(|v| v.to_str().ok());
                Ok(Caller::Public(self.environments.resolve(host).await?))
            }
            (None, _) => Err(Error::Unauthenticated(AuthFailure::MissingToken)),
            (Some(_), None) => Err(Error::Unauthenticated(AuthFailure::InvalidToken)),
            (Some(_), Some(_)) => Err(Error::PermissionDenied {
                reason: "CALLER_NOT_ALLOWED",
                message: "this operation cannot be called with this kind of token",
            }),
        }
    }

    async fn user(&self, policy: &Policy, headers: &http::HeaderMap, token: &str) -> Result<Caller> {
        let (scope, claims) = self.environments.verify_user_token(&self.tokens, token).await?;
        // A user's request is in the environment its vendor host names (else the default one), as
        // a public request is: a token of another environment is not valid there.
        let host = headers.get(VENDOR_HOST).and_then(|v| v.to_str().ok());
        if self.environments.resolve(host).await?.environment_id() != scope.environment_id() {
            return Err(Error::Unauthenticated(AuthFailure::InvalidToken));
        }
        // The contract's gateway fills this header from the token; one that names someone else is
        // a request for another user's data, which a user token does not grant.
        let named = headers
            .get(USER_HEADER)
            .map(|value| value.to_str().map(str::trim))
            .transpose()
            .map_err(|_| Error::invalid(USER_HEADER, "is not valid text"))?;
        if named.is_some_and(|user_id| !user_id.is_empty() && user_id != claims.sub) {
            return Err(Error::PermissionDenied {
                reason: "USER_MISMATCH",
                message: "the frontegg-user-id header names another user than the token",
            });
        }
        if let Some(permission) = policy.permission {
            let stored;
            let held = match &claims.permissions {
                Some(held) => held,
                None => {
                    stored = self.tokens.access_of(&scope, &claims).await?;
                    &stored.permissions
                }
            };
            if !held.iter().any(|held| grants(held, permission)) {
                return Err(Error::MissingPermission(permission.to_owned()));
            }
        }
        Ok(Caller::User(Box::new(SignedIn { scope, claims })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rpc_path_finds_its_own_policy() {
        for policy in POLICIES {
            assert!(
                std::ptr::eq(by_path(policy.rpc).unwrap(), policy),
                "{}",
                policy.rpc
            );
        }
        assert!(by_path("/identity.v1.UserService/Nothing").is_none());
    }

    #[test]
    fn wildcard_permissions_grant_the_keys_they_prefix() {
        assert!(grants("fe.secure.read.users", "fe.secure.read.users"));
        assert!(grants("fe.secure.*", "fe.secure.read.users"));
        assert!(grants("fe.secure.read.*", "fe.secure.read.users"));
        assert!(!grants("fe.secure.write.*", "fe.secure.read.users"));
        assert!(!grants("fe.secure.read.user", "fe.secure.read.users"));
        assert!(!grants("fe.sec*", "fe.secure.read.users"));
        assert!(!grants("*", "fe.secure.read.users"));
    }

    #[test]
    fn token_kinds_are_read_from_the_payload() {
        use base64::Engine as _;
        let encode = |json: &str| {
            format!(
                "e30.{}.sig",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
            )
        };
        assert_eq!(token_kind(&encode(r#"{"type":"userToken"}"#)), Some(Kind::User));
        assert_eq!(
            token_kind(&encode(r#"{"type":"environment"}"#)),
            Some(Kind::Environment)
        );
        assert_eq!(token_kind(&encode(r#"{"type":"other"}"#)), None);
        assert_eq!(token_kind("not-a-token"), None);
        assert_eq!(token_kind("a.%%%.c"), None);
    }
}

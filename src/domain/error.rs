//! The one error type of sigil. Each variant knows its class (which fixes the gRPC code and the HTTP
//! status) and a stable reason that callers and tests match on instead of message text.

use std::fmt;

/// What went wrong, as the caller sees it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; each violation names the offending field.
    #[error("invalid request: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The named resource does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(Resource),
    /// A resource with the same unique field already exists.
    #[error("a {resource} with this {field} already exists")]
    AlreadyExists {
        /// The kind of resource.
        resource: Resource,
        /// The field whose value is taken.
        field: &'static str,
    },
    /// A single-use token or code the caller presented is wrong, expired or used; which of
    /// these is not revealed.
    #[error("the {field} is invalid or has expired")]
    InvalidToken {
        /// Stable UPPER_SNAKE reason.
        reason: &'static str,
        /// The request field that carried it.
        field: &'static str,
    },
    /// The caller's credentials are missing, wrong or expired.
    #[error("{0}")]
    Unauthenticated(AuthFailure),
    /// The caller is known, but its state forbids the request (a locked user, say).
    #[error("{message}")]
    PermissionDenied {
        /// Stable UPPER_SNAKE reason.
        reason: &'static str,
        /// Human-readable explanation.
        message: &'static str,
    },
    /// The caller is a user without the permission the operation requires (its key).
    #[error("the permission {0} is required")]
    MissingPermission(String),
    /// The request is valid but the resource's state forbids it.
    #[error("{message}")]
    FailedPrecondition {
        /// Stable UPPER_SNAKE reason.
        reason: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The service is overloaded, or the database too busy; the caller may retry shortly (see
    /// [`Error::retry_after`]).
    #[error("{0}")]
    Unavailable(&'static str),
    /// The caller made too many attempts of something limited; it may retry after `retry_after`.
    #[error("{message}")]
    ResourceExhausted {
        /// Stable UPPER_SNAKE reason.
        reason: &'static str,
        /// Human-readable explanation.
        message: &'static str,
        /// How long until an attempt may succeed.
        retry_after: std::time::Duration,
    },
    /// A fault inside sigil; the caller sees only an opaque message.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's name, in the transport's own spelling (snake_case for gRPC).
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl From<FieldViolation> for Error {
    fn from(violation: FieldViolation) -> Self {
        Error::InvalidArgument(vec![violation])
    }
}

/// Kinds of resource named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// An environment.
    Environment,
    /// A tenant (account).
    Tenant,
    /// A user.
    User,
    /// A user's membership of a tenant.
    Membership,
    /// A role.
    Role,
    /// A permission.
    Permission,
    /// A category of permissions.
    PermissionCategory,
    /// A group of users in a tenant.
    Group,
    /// A task updating a user's roles across its tenants.
    BulkRolesTask,
}

impl Resource {
    fn upper(self) -> &'static str {
        match self {
            Resource::Environment => "ENVIRONMENT",
            Resource::Tenant => "TENANT",
            Resource::User => "USER",
            Resource::Membership => "MEMBERSHIP",
            Resource::Role => "ROLE",
            Resource::Permission => "PERMISSION",
            Resource::PermissionCategory => "PERMISSION_CATEGORY",
            Resource::Group => "GROUP",
            Resource::BulkRolesTask => "BULK_ROLES_TASK",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::Environment => "environment",
            Resource::Tenant => "tenant",
            Resource::User => "user",
            Resource::Membership => "membership",
            Resource::Role => "role",
            Resource::Permission => "permission",
            Resource::PermissionCategory => "permission category",
            Resource::Group => "group",
            Resource::BulkRolesTask => "bulk roles task",
        })
    }
}

/// Why authentication failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No bearer token was sent.
    #[error("a bearer token is required")]
    MissingToken,
    /// The token is malformed, forged, or not meant for this use.
    #[error("the token is not valid")]
    InvalidToken,
    /// The token was valid but has expired.
    #[error("the token has expired")]
    ExpiredToken,
    /// The client id or secret, or the email or password, is wrong; which one is not revealed.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A refresh token was presented again after it had been exchanged: the session is revoked.
    #[error("the refresh token was already used; the session is revoked")]
    TokenReused,
    /// The token's session was ended.
    #[error("the session of this token has ended")]
    SessionRevoked,
    /// The token's session reached its absolute lifetime: the user must sign in again.
    #[error("the session has reached its longest lifetime; sign in again")]
    SessionExpired,
}

/// The class of an error: it fixes the gRPC code and the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// gRPC INVALID_ARGUMENT, HTTP 400.
    InvalidArgument,
    /// gRPC NOT_FOUND, HTTP 404.
    NotFound,
    /// gRPC ALREADY_EXISTS, HTTP 409.
    AlreadyExists,
    /// gRPC UNAUTHENTICATED, HTTP 401.
    Unauthenticated,
    /// gRPC PERMISSION_DENIED, HTTP 403.
    PermissionDenied,
    /// gRPC FAILED_PRECONDITION, HTTP 400.
    FailedPrecondition,
    /// gRPC UNAVAILABLE, HTTP 503.
    Unavailable,
    /// gRPC RESOURCE_EXHAUSTED, HTTP 429.
    ResourceExhausted,
    /// gRPC INTERNAL, HTTP 500.
    Internal,
}

impl ErrorClass {
    /// The HTTP status the REST gateway answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorClass::InvalidArgument | ErrorClass::FailedPrecondition => 400,
            ErrorClass::Unauthenticated => 401,
            ErrorClass::PermissionDenied => 403,
            ErrorClass::NotFound => 404,
            ErrorClass::AlreadyExists => 409,
            ErrorClass::Unavailable => 503,
            ErrorClass::ResourceExhausted => 429,
            ErrorClass::Internal => 500,
        }
    }
}

impl Error {
    /// A single invalid field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        FieldViolation::new(field, description).into()
    }

    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::InvalidArgument(_) | Error::InvalidToken { .. } => ErrorClass::InvalidArgument,
            Error::NotFound(_) => ErrorClass::NotFound,
            Error::AlreadyExists { .. } => ErrorClass::AlreadyExists,
            Error::Unauthenticated(_) => ErrorClass::Unauthenticated,
            Error::PermissionDenied { .. } | Error::MissingPermission(_) => ErrorClass::PermissionDenied,
            Error::FailedPrecondition { .. } => ErrorClass::FailedPrecondition,
            Error::Unavailable(_) => ErrorClass::Unavailable,
            Error::ResourceExhausted { .. } => ErrorClass::ResourceExhausted,
            Error::Internal(_) => ErrorClass::Internal,
        }
    }

    /// The stable UPPER_SNAKE reason callers match on.
    pub fn reason(&self) -> String {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT".into(),
            Error::NotFound(resource) => format!("{}_NOT_FOUND", resource.upper()),
            Error::AlreadyExists { resource, .. } => format!("{}_ALREADY_EXISTS", resource.upper()),
            Error::InvalidToken { reason, .. } | Error::PermissionDenied { reason, .. } => (*reason).into(),
            Error::Unauthenticated(failure) => match failure {
                AuthFailure::MissingToken => "MISSING_TOKEN",
                AuthFailure::InvalidToken => "INVALID_TOKEN",
                AuthFailure::ExpiredToken => "TOKEN_EXPIRED",
                AuthFailure::InvalidCredentials => "INVALID_CREDENTIALS",
                AuthFailure::TokenReused => "REFRESH_TOKEN_REUSED",
                AuthFailure::SessionRevoked => "SESSION_REVOKED",
                AuthFailure::SessionExpired => "SESSION_EXPIRED",
            }
            .into(),
            Error::FailedPrecondition { reason, .. } => (*reason).into(),
            Error::MissingPermission(_) => "MISSING_PERMISSION".into(),
            Error::Unavailable(_) => "UNAVAILABLE".into(),
            Error::ResourceExhausted { reason, .. } => (*reason).into(),
            Error::Internal(_) => "INTERNAL".into(),
        }
    }

    /// The fields a caller got wrong, if this is about bad input.
    pub fn violations(&self) -> Vec<FieldViolation> {
        match self {
            Error::InvalidArgument(violations) => violations.clone(),
            Error::InvalidToken { field, .. } => vec![FieldViolation::new(*field, self.to_string())],
            _ => Vec::new(),
        }
    }

    /// How long the caller should wait before retrying, for errors that a retry may cure.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER),
            Error::ResourceExhausted { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Wraps a fault inside sigil.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Error::Internal(error.into())
    }
}

/// What a caller is told to wait before retrying after UNAVAILABLE: a busy database or a full
/// hashing queue clears within moments.
pub const UNAVAILABLE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Results of domain and service operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

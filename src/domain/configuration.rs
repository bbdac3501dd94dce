//! The environment's identity configuration (the contract's Core Settings): how its users sign
//! in and what their tokens carry.

/// The identity configuration as it applies to an environment now. Each field says what sigil
/// does; features sigil does not have yet read as off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfiguration {
    /// The environment's id.
    pub id: String,
    /// Lifetime of an access token, in seconds.
    pub default_token_expiration: i64,
    /// Lifetime of a refresh token, in seconds.
    pub default_refresh_token_expiration: i64,
    /// PEM of the key that signs access tokens now.
    pub public_key: String,
    /// SameSite attribute of the refresh cookie: `NONE` or `LAX`.
    pub cookie_same_site: &'static str,
    /// Whether users may sign up on their own.
    pub allow_signups: bool,
    /// Whether API tokens may be created.
    pub api_tokens_enabled: bool,
    /// Whether a tenant may override the password complexity policy.
    pub allow_override_password_complexity: bool,
    /// Whether a tenant may override the password expiration policy.
    pub allow_override_password_expiration: bool,
    /// Whether a tenant may override the password history policy.
    pub allow_override_enforce_password_history: bool,
    /// Signing algorithm of access tokens.
    pub jwt_algorithm: &'static str,
    /// Whether users whose email is not verified may sign in.
    pub allow_not_verified_users_login: bool,
    /// Whether permissions are enforced on the environment's own routes.
    pub force_permissions: bool,
    /// How users sign in.
    pub auth_strategy: &'static str,
    /// Lifetime of a passwordless token, in seconds.
    pub default_passwordless_token_expiration: i64,
    /// Whether a passwordless sign-in must finish on the device that started it.
    pub force_same_device_on_auth: bool,
    /// Whether tenants may invite users.
    pub allow_tenant_invitations: bool,
    /// Whether refresh tokens are replaced at every use.
    pub rotate_refresh_tokens: bool,
    /// How machines authenticate.
    pub machine_to_machine_auth_strategy: &'static str,
    /// Whether access tokens carry role keys.
    pub add_roles_to_jwt: bool,
    /// Whether access tokens carry permission keys.
    pub add_permissions_to_jwt: bool,
    /// How many times a refresh token may be presented; 0 for once.
    pub refresh_tokens_rotation_limit: i64,
    /// Whether access tokens carry the attributes of a SAML sign-in.
    pub add_saml_attributes_to_jwt: bool,
    /// Whether a user may switch tenant at sign-in.
    pub allow_custom_login_tenant_switch: bool,
}

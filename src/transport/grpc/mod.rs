//! The gRPC API: package `identity.v1`, plus health and reflection.

mod activation;
pub mod auth;
mod bulk_roles;
pub mod codec;
mod configurations;
pub mod context;
mod convert;
mod environment;
pub mod environment_admin;
pub mod error;
mod groups;
mod me;
pub mod observe;
mod permissions;
mod roles;
mod sign_in;
mod team;
mod tenants;
mod tokens;
mod users;

pub use activation::ActivationApi;
pub use configurations::ConfigurationApi;
pub use environment::EnvironmentAuthApi;
pub use environment_admin::EnvironmentAdminApi;
pub use groups::GroupApi;
pub use me::MeApi;
pub use permissions::PermissionApi;
pub use roles::RoleApi;
pub use sign_in::AuthApi;
pub use team::TeamApi;
pub use tenants::TenantApi;
pub use tokens::TokenApi;
pub use users::UserApi;

/// Code generated from `proto/identity/v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("identity.v1");
    include!(concat!(env!("OUT_DIR"), "/identity_redacted.rs"));

    /// The encoded descriptors of `proto/` and its imports, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/identity_descriptor.bin"));
}

//! Database schema of sigil, as sea-orm migrations. They run at start-up and with `sigil migrate`;
//! applied migrations are recorded, so running them again changes nothing.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_environments;
mod m20261126_000002_create_signing_keys;
mod m20261126_000003_create_tenants;
mod m20261126_000004_create_users;
mod m20261126_000005_create_user_tenants;
mod m20261126_000006_create_user_tokens;
mod m20261126_000007_create_sessions;
mod m20261206_000001_revocation_sequence;
mod m20261206_000002_signing_key_sealer;
mod m20261207_100001_refresh_token_successor;
mod m20261207_200001_environment_name;
mod m20261207_300001_portable_order;
mod m20261207_300002_cleanup_indexes;
mod m20261207_300003_listing_indexes;
mod m20261208_000001_member_counts;
mod m20261209_000001_cleanup_by_creation;
mod m20261210_000001_write_checks;
mod m20261211_000001_authorization;
mod m20261211_100001_policies;
mod m20261211_200001_role_listing;
mod m20261212_000001_groups;
mod m20261212_100001_user_flags;
mod m20261213_000001_builtin_release;
mod m20261213_000002_role_orders;
mod m20261213_100001_bulk_role_tasks;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_environments::Migration),
            Box::new(m20261126_000002_create_signing_keys::Migration),
            Box::new(m20261126_000003_create_tenants::Migration),
            Box::new(m20261126_000004_create_users::Migration),
            Box::new(m20261126_000005_create_user_tenants::Migration),
            Box::new(m20261126_000006_create_user_tokens::Migration),
            Box::new(m20261126_000007_create_sessions::Migration),
            Box::new(m20261206_000001_revocation_sequence::Migration),
            Box::new(m20261206_000002_signing_key_sealer::Migration),
            Box::new(m20261207_100001_refresh_token_successor::Migration),
            Box::new(m20261207_200001_environment_name::Migration),
            Box::new(m20261207_300001_portable_order::Migration),
            Box::new(m20261207_300002_cleanup_indexes::Migration),
            Box::new(m20261207_300003_listing_indexes::Migration),
            Box::new(m20261208_000001_member_counts::Migration),
            Box::new(m20261209_000001_cleanup_by_creation::Migration),
            Box::new(m20261210_000001_write_checks::Migration),
            Box::new(m20261211_000001_authorization::Migration),
            Box::new(m20261211_100001_policies::Migration),
            Box::new(m20261211_200001_role_listing::Migration),
            Box::new(m20261212_000001_groups::Migration),
            Box::new(m20261212_100001_user_flags::Migration),
            Box::new(m20261213_000001_builtin_release::Migration),
            Box::new(m20261213_000002_role_orders::Migration),
            Box::new(m20261213_100001_bulk_role_tasks::Migration),
        ]
    }
}

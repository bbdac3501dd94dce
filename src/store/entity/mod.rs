//! sea-orm entities, one per table; the tables themselves are defined by the migrations crate.

pub mod bulk_role_task;
pub mod environment;
pub mod group;
pub mod group_member;
pub mod group_role;
pub mod membership_role;
pub mod permission;
pub mod permission_category;
pub mod policy;
pub mod refresh_token;
pub mod role;
pub mod role_permission;
pub mod session;
pub mod session_revocation;
pub mod signing_key;
pub mod tenant;
pub mod user;
pub mod user_tenant;
pub mod user_token;

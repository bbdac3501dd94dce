//! Types and rules of the identity domain. Nothing here knows about gRPC, HTTP or the database.

pub mod admin;
pub mod bulk_roles;
pub mod clock;
pub mod configuration;
pub mod email;
pub mod environment;
pub mod error;
pub mod field;
pub mod group;
pub mod metadata;
pub mod page;
pub mod password;
pub mod permission;
pub mod policy;
pub mod role;
pub mod scope;
pub mod secret;
pub mod session;
pub mod tenant;
pub mod user;

pub use clock::{Clock, SystemClock};
pub use error::{Error, ErrorClass, FieldViolation, Resource};

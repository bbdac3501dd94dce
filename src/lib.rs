//! sigil: a self-hosted identity service implementing the Frontegg Identity API, gRPC first.
//!
//! The direction of dependencies is the architecture: `transport` -> `service` -> `domain`, and
//! `service` -> `store`. `domain` knows nothing of gRPC, HTTP or the database.

pub mod app;
pub mod commands;
pub mod config;
pub mod domain;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod transport;

pub use app::Application;
pub use config::Config;

//! Integration tests: a real sigil over TCP on a fresh database per test (SQLite, or PostgreSQL
//! when SIGIL_TEST_DATABASE_URL names a server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod activation;
mod cleanup;
mod clients;
mod configurations;
mod connections;
mod contention;
mod control_characters;
mod environment;
mod environment_admin;
mod faults;
mod groups;
mod health;
mod helpers;
mod http;
mod isolation;
mod keys;
mod lifecycle;
mod listings;
mod me;
mod metrics;
mod policies;
mod process;
mod rate_limits;
mod redaction;
mod reflection;
mod refresh;
mod replicas;
mod rest;
mod rest_configurations;
mod rest_me;
mod rest_openapi;
mod rest_prefix;
mod rest_tenants;
mod rest_users;
mod restart;
mod roles;
mod sign_in;
mod tenant_deletion;
mod tenants;
mod tokens;
mod traces;
mod users;

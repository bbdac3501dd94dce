//! Integration tests: a real sigil over TCP on a fresh database per test (SQLite, or PostgreSQL
//! when SIGIL_TEST_DATABASE_URL names a server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod activation;
mod environment;
mod health;
mod helpers;
mod reflection;
mod rest;
mod rest_configurations;
mod rest_prefix;
mod restart;
mod sign_in;
mod tenants;
mod tokens;
mod users;

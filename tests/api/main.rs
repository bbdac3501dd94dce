//! Integration tests: a real sigil over TCP on a fresh database per test (SQLite, or PostgreSQL
//! when SIGIL_TEST_DATABASE_URL names a server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod activation;
mod environment;
mod health;
mod helpers;
mod lifecycle;
mod metrics;
mod process;
mod reflection;
mod rest;
mod restart;
mod sign_in;
mod tenants;
mod tokens;
mod traces;
mod users;

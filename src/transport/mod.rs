//! The ways in: gRPC (the primary API) and the REST gateway at Frontegg's paths. Both only
//! convert between wire types and domain types and call the same services.

pub mod connections;
pub mod grpc;
pub mod headers;
pub mod policy;
pub mod rest;

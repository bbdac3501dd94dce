//! The ways in: gRPC (the primary API) and, later, the REST gateway. Both only convert between
//! wire types and domain types and call the services.

pub mod grpc;

//! Conversions shared by the gRPC services.

use chrono::{DateTime, Utc};

use crate::domain::page::Order;

use super::pb;

/// A protobuf timestamp from a UTC time.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// The sort direction of a listing request.
pub fn order(raw: i32) -> Order {
    match pb::SortOrder::try_from(raw) {
        Ok(pb::SortOrder::Desc) => Order::Desc,
        _ => Order::Asc,
    }
}

/// Empty for `None`.
pub fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}

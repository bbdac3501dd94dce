//! Conversions shared by the gRPC services.

use chrono::{DateTime, Utc};

use crate::domain::{
    Error,
    page::{Order, Page},
};

use super::pb;

/// A protobuf timestamp from a UTC time.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// The sort direction of a listing request; a value outside the enum is refused.
pub fn order(raw: i32) -> Result<Order, Error> {
    match pb::SortOrder::try_from(raw) {
        Ok(pb::SortOrder::Unspecified | pb::SortOrder::Asc) => Ok(Order::Asc),
        Ok(pb::SortOrder::Desc) => Ok(Order::Desc),
        Err(_) => Err(Error::invalid("order", "is not a known sort order")),
    }
}

/// Empty for `None`.
pub fn text(value: Option<String>) -> String {
    value.unwrap_or_default()
}

/// The totals of a page.
pub fn page_metadata<T>(page: &Page<T>) -> pb::PaginationMetadata {
    pb::PaginationMetadata {
        total_items: page.total_items as i64,
        total_pages: page.total_pages as i64,
    }
}

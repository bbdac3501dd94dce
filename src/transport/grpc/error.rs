//! The one place where domain errors become gRPC statuses, with google.rpc details: an `ErrorInfo`
//! carrying the stable reason, `BadRequest` field violations for bad input, and for internal
//! faults a `RequestInfo` with the trace id to quote.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::{
    domain::{Error, ErrorClass},
    telemetry,
};

/// The `ErrorInfo` domain of every error sigil reports.
pub const ERROR_DOMAIN: &str = "sigil";

fn code(class: ErrorClass) -> Code {
    match class {
        ErrorClass::InvalidArgument => Code::InvalidArgument,
        ErrorClass::NotFound => Code::NotFound,
        ErrorClass::AlreadyExists => Code::AlreadyExists,
        ErrorClass::Unauthenticated => Code::Unauthenticated,
        ErrorClass::PermissionDenied => Code::PermissionDenied,
        ErrorClass::FailedPrecondition => Code::FailedPrecondition,
        ErrorClass::Unavailable => Code::Unavailable,
        ErrorClass::ResourceExhausted => Code::ResourceExhausted,
        ErrorClass::Internal => Code::Internal,
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let mut details = ErrorDetails::new();
        let mut metadata = HashMap::new();
        match &error {
            Error::AlreadyExists { field, .. } => {
                metadata.insert("field".to_owned(), (*field).to_owned());
            }
            Error::MissingPermission(permission) => {
                metadata.insert("permission".to_owned(), permission.clone());
            }
            _ => {}
        }
        details.set_error_info(error.reason(), ERROR_DOMAIN, metadata);
        if let Some(retry_after) = error.retry_after() {
            details.set_retry_info(Some(retry_after));
        }
        for violation in error.violations() {
            details.add_bad_request_violation(violation.field, violation.description);
        }
        let message = match &error {
            Error::Internal(cause) => {
                // Without tracing there is no trace id; a fresh id still ties the answer to the log.
                let trace_id = telemetry::current_trace_id()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                tracing::error!(error = format!("{cause:#}"), trace_id, "internal error");
                details.set_request_info(trace_id.clone(), "");
                format!("internal error; trace id {trace_id}")
            }
            other => other.to_string(),
        };
        Status::with_error_details(code(error.class()), message, details)
    }
}

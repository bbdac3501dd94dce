//! A tower layer around the whole gRPC server: each call gets a server span named and attributed
//! after OpenTelemetry's RPC conventions (`identity.v1.AuthService/Login`, `rpc.system`,
//! `rpc.service`, `rpc.method`, `rpc.grpc.status_code`) that continues the caller's trace, and is
//! counted and timed by service, method and status code. The status is read where gRPC puts it:
//! in the headers of a trailers-only response (most errors), else in the trailers after the body.
//! Without a trace exporter the span carries only what logs show (`rpc.service`, `rpc.method`).

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use http_body::{Body as HttpBody, Frame};
use prost::Message;
use tonic::body::Body;
use tower::{Layer, Service};
use tracing::{Instrument, field::Empty};

use crate::telemetry::{
    self,
    metrics::{GrpcSeries, InFlight, Metrics, grpc_code_name},
};

/// The gRPC health service, which probes call all the time.
const HEALTH: &str = "grpc.health.v1.Health";

/// Whether a server answering `code` is at fault, which marks its span as an error (the
/// conventions leave the caller's mistakes, such as INVALID_ARGUMENT, unmarked on the server).
fn server_fault(code: i32) -> bool {
    matches!(code, 2 | 4 | 12 | 13 | 14 | 15)
}

/// The `grpc-status` of a header or trailer map.
fn grpc_status(headers: &http::HeaderMap) -> Option<i32> {
    headers.get("grpc-status")?.to_str().ok()?.parse().ok()
}

/// The methods this server serves, as `/package.Service/Method`: only these name spans and
/// label metrics; anything else is `unknown`, so callers cannot make label values up.
#[derive(Debug, Default)]
pub struct KnownMethods(HashSet<String>);

impl KnownMethods {
    /// The methods of the services in these encoded descriptor sets.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> anyhow::Result<Self> {
        let mut methods = HashSet::new();
        for set in sets {
            let set = prost_types::FileDescriptorSet::decode(*set)?;
            for file in set.file {
                let package = file.package.unwrap_or_default();
                for service in file.service {
                    let service_name = match (package.as_str(), service.name()) {
                        ("", name) => name.to_owned(),
                        (package, name) => format!("{package}.{name}"),
                    };
                    for method in service.method {
                        methods.insert(format!("/{service_name}/{}", method.name()));
                    }
                }
            }
        }
        Ok(Self(methods))
    }
}

/// The service and method of a path `/package.Service/Method`.
fn split(path: &str) -> (&str, &str) {
    path.trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("unknown", "unknown"))
}

/// The layer; see the module documentation.
#[derive(Clone)]
pub struct Observe {
    metrics: Arc<Metrics>,
    /// The known methods, by path.
    methods: Arc<HashMap<String, Arc<GrpcSeries>>>,
    /// What any other path is named.
    unknown: Arc<GrpcSeries>,
}

impl Observe {
    /// Observes calls into `metrics`, naming the methods in `known`.
    pub fn new(metrics: Arc<Metrics>, known: KnownMethods) -> Self {
        let methods = known
            .0
            .into_iter()
            .map(|path| {
                let (service, method) = split(&path);
                let series = Arc::new(metrics.grpc_series(service, method));
                (path, series)
            })
            .collect();
        Self {
            unknown: Arc::new(metrics.grpc_series("unknown", "unknown")),
            metrics,
            methods: Arc::new(methods),
        }
    }

    /// The series of the method a request path names.
    fn method(&self, path: &str) -> Arc<GrpcSeries> {
        self.methods.get(path).unwrap_or(&self.unknown).clone()
    }
}

impl<S> Layer<S> for Observe {
    type Service = ObserveService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ObserveService {
            inner,
            observe: self.clone(),
        }
    }
}

/// The service [`Observe`] wraps around the server's routes.
#[derive(Clone)]
pub struct ObserveService<S> {
    inner: S,
    observe: Observe,
}

/// What is known of a call until its status is: records it once, as CANCELLED if the response
/// is dropped before its status was sent (the caller went away).
struct Call {
    metrics: Arc<Metrics>,
    series: Arc<GrpcSeries>,
    span: tracing::Span,
    started: Instant,
    done: bool,
    _in_flight: InFlight,
}

impl Call {
    fn finish(&mut self, code: i32) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        let elapsed = self.started.elapsed();
        self.span.record("rpc.grpc.status_code", i64::from(code));
        if server_fault(code) {
            self.span.record("otel.status_code", "ERROR");
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            self.span.in_scope(|| {
                tracing::debug!(
                    code = grpc_code_name(code),
                    elapsed_ms = elapsed.as_secs_f64() * 1000.0,
                    "gRPC call finished"
                );
            });
        }
        self.metrics.grpc_handled(&self.series, code, elapsed);
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(tonic::Code::Cancelled as i32);
    }
}

impl<S, ResBody> Service<http::Request<Body>> for ObserveService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<ResBody>> + Send,
    S::Future: Send + 'static,
    ResBody: HttpBody<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<tower::BoxError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let called = self.observe.method(request.uri().path());
        let (service, method) = (called.service(), called.method());
        // Health checks come every few seconds from every probe: counted, not traced.
        let span = if service == HEALTH {
            tracing::Span::none()
        } else if !telemetry::exporting() {
            // Logs show the method; nothing reads the conventions' fields.
            tracing::info_span!("grpc.server", rpc.service = %service, rpc.method = %method)
        } else {
            tracing::info_span!(
                "grpc.server",
                otel.name = format!("{service}/{method}"),
                otel.kind = "server",
                rpc.system = "grpc",
                rpc.service = service,
                rpc.method = method,
                rpc.grpc.status_code = Empty,
                otel.status_code = Empty,
            )
        };
        telemetry::continue_trace(&span, request.headers());
        let metrics = self.observe.metrics.clone();
        let mut call = Call {
            _in_flight: metrics.grpc_started(&called),
            metrics,
            series: called,
            span: span.clone(),
            started: Instant::now(),
            done: false,
        };
        let response = self.inner.call(request).instrument(span);
        Box::pin(async move {
            let response = response.await?;
            if let Some(code) = grpc_status(response.headers()) {
                call.finish(code);
            }
            Ok(response.map(|body| Body::new(Observed { body, call })))
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that reports the call's status when the trailers carrying it go by.
    struct Observed<B> {
        #[pin]
        body: B,
        call: Call,
    }
}

impl<B: HttpBody> HttpBody for Observed<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = std::task::ready!(this.body.poll_frame(cx));
        match &frame {
            Some(Ok(frame)) => {
                if let Some(code) = frame.trailers_ref().and_then(grpc_status) {
                    this.call.finish(code);
                }
            }
            Some(Err(_)) => this.call.finish(tonic::Code::Unknown as i32),
            None => {
                // A stream that ends without a status broke the protocol.
                this.call.finish(tonic::Code::Unknown as i32);
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_served_methods_name_spans_and_metrics() {
        let known = KnownMethods::from_descriptor_sets(&[
            crate::transport::grpc::pb::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ])
        .unwrap();
        let observe = Observe::new(Arc::new(Metrics::new()), known);
        let named = |path: &str| {
            let method = observe.method(path);
            (method.service().to_owned(), method.method().to_owned())
        };
        let pair = |service: &str, method: &str| (service.to_owned(), method.to_owned());
        assert_eq!(
            named("/identity.v1.AuthService/Login"),
            pair("identity.v1.AuthService", "Login")
        );
        assert_eq!(
            named("/grpc.health.v1.Health/Check"),
            pair("grpc.health.v1.Health", "Check")
        );
        assert_eq!(
            named("/identity.v1.AuthService/Made-Up"),
            pair("unknown", "unknown")
        );
        assert_eq!(named("/"), pair("unknown", "unknown"));
    }
}

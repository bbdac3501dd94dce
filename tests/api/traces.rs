//! Traces: the sigil binary exports its spans over OTLP to a collector run by the test; a gRPC
//! call and an HTTP request that carry a caller's trace context (W3C, B3 single header, B3 multi
//! headers) give server spans in the caller's trace, under the caller's span, named and
//! attributed after OpenTelemetry's conventions, with child spans for the database and hashing.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::{AnyValue, KeyValue, any_value::Value},
    trace::v1::{Span, span::SpanKind},
};
use serde_json::json;
use sigil::transport::grpc::pb::{self, environment_auth_service_client::EnvironmentAuthServiceClient};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

use crate::{
    helpers::{CLIENT_ID, SECRET},
    process::Process,
};

/// The spans received, with the service name of their resource.
#[derive(Clone, Default)]
pub struct Collector {
    spans: Arc<Mutex<Vec<(String, Span)>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.record(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Collector {
    fn record(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| string(&r.attributes, "service.name"))
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
    }

    /// A collector taking OTLP/HTTP with protobuf bodies at `/v1/traces`.
    pub async fn start_http() -> (Self, SocketAddr) {
        use prost::Message;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let collector = Self::default();
        let sink = collector.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: axum::body::Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                sink.record(request);
                (
                    [("content-type", "application/x-protobuf")],
                    ExportTraceServiceResponse::default().encode_to_vec(),
                )
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        (collector, addr)
    }

    /// A collector taking OTLP/gRPC, listening on a port of its own.
    pub async fn start() -> (Self, SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let collector = Self::default();
        let service = TraceServiceServer::new(collector.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpListenerStream::new(listener)),
        );
        (collector, addr)
    }

    /// The first span received that `matches`, waiting for it up to `limit`.
    pub async fn wait_for(&self, limit: Duration, matches: impl Fn(&Span) -> bool) -> Option<(String, Span)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(found) = self.spans.lock().unwrap().iter().find(|(_, s)| matches(s)) {
                return Some(found.clone());
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every span of trace `trace_id` received so far.
    pub fn trace(&self, trace_id: &[u8]) -> Vec<Span> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.trace_id == trace_id)
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// The names of every span received, for failure messages.
    pub fn names(&self) -> Vec<String> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s)| s.name.clone())
            .collect()
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key)? {
        Value::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key)? {
        Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A caller's trace context, in one of the encodings sigil must understand.
#[derive(Clone, Copy, Debug)]
pub enum Encoding {
    W3c,
    B3Single,
    B3Multi,
}

/// A fresh caller trace id and span id, and the headers carrying them.
pub struct CallerContext {
    pub trace_id: String,
    pub span_id: String,
    pub headers: Vec<(&'static str, String)>,
}

impl CallerContext {
    pub fn new(encoding: Encoding) -> Self {
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
        let headers = match encoding {
            Encoding::W3c => vec![
                ("traceparent", format!("00-{trace_id}-{span_id}-01")),
                ("tracestate", "caller=test".to_owned()),
            ],
            Encoding::B3Single => vec![("b3", format!("{trace_id}-{span_id}-1"))],
            Encoding::B3Multi => vec![
                ("x-b3-traceid", trace_id.clone()),
                ("x-b3-spanid", span_id.clone()),
                ("x-b3-sampled", "1".to_owned()),
            ],
        };
        Self {
            trace_id,
            span_id,
            headers,
        }
    }

    /// `message` with the context in its metadata.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        for (name, value) in &self.headers {
            request.metadata_mut().insert(*name, value.parse().unwrap());
        }
        request
    }

    /// Whether `span` is a server span the caller's span is the parent of.
    fn is_child(&self, span: &Span) -> bool {
        hex(&span.trace_id) == self.trace_id && hex(&span.parent_span_id) == self.span_id
    }
}

/// sigil exporting to a collector of the test's, in small batches so spans arrive soon.
async fn traced_sigil() -> (Process, Collector) {
    let (collector, addr) = Collector::start().await;
    let endpoint = format!("http://{addr}");
    let process = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_SERVICE_NAME", "sigil-under-test"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    (process, collector)
}

const WAIT: Duration = Duration::from_secs(20);

async fn a_grpc_call_continues_the_callers_trace(encoding: Encoding) {
    let (process, collector) = traced_sigil().await;
    let caller = CallerContext::new(encoding);
    EnvironmentAuthServiceClient::new(process.channel().await)
        .authenticate_vendor(caller.request(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        }))
        .await
        .unwrap();

    let (service, server) = collector
        .wait_for(WAIT, |s| caller.is_child(s))
        .await
        .unwrap_or_else(|| panic!("no server span under the caller's; got {:?}", collector.names()));
    assert_eq!(service, "sigil-under-test");
    assert_eq!(
        server.name,
        "identity.v1.EnvironmentAuthService/AuthenticateVendor"
    );
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(string(&server.attributes, "rpc.system").as_deref(), Some("grpc"));
    assert_eq!(
        string(&server.attributes, "rpc.service").as_deref(),
        Some("identity.v1.EnvironmentAuthService")
    );
    assert_eq!(
        string(&server.attributes, "rpc.method").as_deref(),
        Some("AuthenticateVendor")
    );
    assert_eq!(int(&server.attributes, "rpc.grpc.status_code"), Some(0));

    // The secret was checked on a hashing thread, the environment read from the database: both
    // in the server span's trace, the hash right under it.
    let server_id = server.span_id.clone();
    let hashing = collector
        .wait_for(WAIT, |s| {
            s.name == "password.verify" && s.parent_span_id == server_id
        })
        .await;
    assert!(hashing.is_some(), "no hashing span; got {:?}", collector.names());
    let trace = collector.trace(&unhex(&caller.trace_id));
    assert!(
        trace
            .iter()
            .any(|s| s.name.starts_with("sea_orm") && string(&s.attributes, "db.system").is_some()),
        "no database span in {:?}",
        trace.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
}

async fn an_http_request_continues_the_callers_trace(encoding: Encoding) {
    let (process, collector) = traced_sigil().await;
    let caller = CallerContext::new(encoding);
    let mut request = reqwest::Client::new()
        .post(process.url("/auth/vendor"))
        .json(&json!({"clientId": CLIENT_ID, "secret": SECRET}));
    for (name, value) in &caller.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["frontegg-trace-id"].to_str().unwrap(),
        caller.trace_id
    );

    let (_, server) = collector
        .wait_for(WAIT, |s| caller.is_child(s))
        .await
        .unwrap_or_else(|| panic!("no server span under the caller's; got {:?}", collector.names()));
    assert_eq!(server.name, "POST /auth/vendor");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(
        string(&server.attributes, "http.request.method").as_deref(),
        Some("POST")
    );
    assert_eq!(
        string(&server.attributes, "http.route").as_deref(),
        Some("/auth/vendor")
    );
    assert_eq!(int(&server.attributes, "http.response.status_code"), Some(200));
    let server_id = server.span_id.clone();
    assert!(
        collector
            .wait_for(WAIT, |s| s.name == "password.verify"
                && s.parent_span_id == server_id)
            .await
            .is_some(),
        "no hashing span; got {:?}",
        collector.names()
    );
}

#[tokio::test]
async fn a_grpc_call_with_a_traceparent_is_traced_under_the_callers_span() {
    a_grpc_call_continues_the_callers_trace(Encoding::W3c).await;
}

#[tokio::test]
async fn a_grpc_call_with_a_b3_header_is_traced_under_the_callers_span() {
    a_grpc_call_continues_the_callers_trace(Encoding::B3Single).await;
}

#[tokio::test]
async fn a_grpc_call_with_x_b3_headers_is_traced_under_the_callers_span() {
    a_grpc_call_continues_the_callers_trace(Encoding::B3Multi).await;
}

#[tokio::test]
async fn an_http_request_with_a_traceparent_is_traced_under_the_callers_span() {
    an_http_request_continues_the_callers_trace(Encoding::W3c).await;
}

#[tokio::test]
async fn an_http_request_with_a_b3_header_is_traced_under_the_callers_span() {
    an_http_request_continues_the_callers_trace(Encoding::B3Single).await;
}

#[tokio::test]
async fn an_http_request_with_x_b3_headers_is_traced_under_the_callers_span() {
    an_http_request_continues_the_callers_trace(Encoding::B3Multi).await;
}

#[tokio::test]
async fn a_failed_call_records_its_status_code() {
    let (process, collector) = traced_sigil().await;
    let caller = CallerContext::new(Encoding::W3c);
    let status = EnvironmentAuthServiceClient::new(process.channel().await)
        .authenticate_vendor(caller.request(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: "not the secret".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let (_, server) = collector
        .wait_for(WAIT, |s| caller.is_child(s))
        .await
        .unwrap_or_else(|| panic!("no server span; got {:?}", collector.names()));
    assert_eq!(
        int(&server.attributes, "rpc.grpc.status_code"),
        Some(tonic::Code::Unauthenticated as i64)
    );

    // A path sigil does not serve names no span after itself.
    let caller = CallerContext::new(Encoding::W3c);
    let response = {
        let mut request = reqwest::Client::new().get(process.url("/no/such/path/42"));
        for (name, value) in &caller.headers {
            request = request.header(*name, value);
        }
        request.send().await.unwrap()
    };
    assert_eq!(response.status(), 404);
    let (_, server) = collector
        .wait_for(WAIT, |s| caller.is_child(s))
        .await
        .unwrap_or_else(|| panic!("no server span; got {:?}", collector.names()));
    assert_eq!(server.name, "GET");
    assert_eq!(string(&server.attributes, "http.route"), None);
    assert_eq!(int(&server.attributes, "http.response.status_code"), Some(404));
}

#[tokio::test]
async fn spans_go_over_http_protobuf_when_no_protocol_is_named() {
    let (collector, addr) = Collector::start_http().await;
    let endpoint = format!("http://{addr}");
    let process = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ])
    .await;
    let caller = CallerContext::new(Encoding::W3c);
    EnvironmentAuthServiceClient::new(process.channel().await)
        .authenticate_vendor(caller.request(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        }))
        .await
        .unwrap();
    let (service, server) = collector
        .wait_for(WAIT, |s| caller.is_child(s))
        .await
        .unwrap_or_else(|| panic!("no server span; got {:?}", collector.names()));
    assert_eq!(service, "sigil");
    assert_eq!(
        server.name,
        "identity.v1.EnvironmentAuthService/AuthenticateVendor"
    );
}

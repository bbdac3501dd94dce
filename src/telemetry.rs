//! Telemetry: `tracing` logs (text, or JSON carrying trace and span ids), OpenTelemetry traces
//! exported over OTLP as the standard `OTEL_*` variables say, and Prometheus metrics
//! ([`metrics`]). Incoming W3C `traceparent`/`tracestate` and B3 headers (single `b3` or
//! `x-b3-*`) continue the caller's trace, so a call is traced across the service mesh.

mod json;
pub mod metrics;

use std::{
    io::IsTerminal,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use opentelemetry::{
    global,
    propagation::{Extractor, TextMapCompositePropagator, TextMapPropagator},
    trace::{SpanId, TraceContextExt, TraceId, TracerProvider as _},
};
use opentelemetry_propagator_b3::{B3Encoding, Propagator as B3Propagator};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{IdGenerator, RandomIdGenerator, SdkTracerProvider},
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    filter::{FilterExt, dynamic_filter_fn},
    layer::SubscriberExt,
    registry::{LookupSpan, SpanRef},
    util::SubscriberInitExt,
};

use crate::config::{Config, LogFormat};

/// Which spans reach OpenTelemetry, whatever the log filter says: sigil's own and the database's,
/// not the HTTP/2 and exporter internals (exporting those would trace the exporter itself).
const TRACE_FILTER: &str = "info,sqlx=warn,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,reqwest=off,\
                            opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off";

/// How long shutdown waits for the last spans to reach the collector.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps the trace pipeline alive; flush it with [`Telemetry::shutdown`] before exiting.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Exports the spans not yet exported and stops the pipeline. Blocks: call it from a
    /// multi-threaded runtime (or `spawn_blocking`).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown_with_timeout(FLUSH_TIMEOUT) {
            eprintln!("sigil: flushing traces failed: {error}");
        }
    }
}

/// Reads a variable of the process environment; empty counts as unset, as the OpenTelemetry
/// specification asks.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the standard variables ask for spans to be exported over OTLP: an endpoint is set,
/// the SDK is not disabled and no other exporter (`none`) is chosen.
fn export_wanted(env: impl Fn(&str) -> Option<String>) -> bool {
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let exporter_is_otlp = env("OTEL_TRACES_EXPORTER").is_none_or(|v| v.trim().eq_ignore_ascii_case("otlp"));
    let endpoint = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"));
    !disabled && exporter_is_otlp && endpoint.is_some()
}

/// Whether the standard variables name the service; if not, it is "sigil".
fn service_named(env: impl Fn(&str) -> Option<String>) -> bool {
    env("OTEL_SERVICE_NAME").is_some()
        || env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|attributes| {
            attributes.split(',').any(|pair| {
                pair.split_once('=')
                    .is_some_and(|(key, _)| key.trim() == "service.name")
            })
        })
}

/// The resource describing this process: the standard variables' service name and attributes
/// (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), with sigil's name and version by default.
fn resource() -> Resource {
    let mut builder = Resource::builder();
    if !service_named(env) {
        builder = builder.with_service_name("sigil");
    }
    builder
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build()
}

/// The propagator of incoming trace context: B3 (single header or multi headers, as Envoy and
/// Istio send them) and W3C trace context, the latter winning when a caller sends both.
pub fn propagator() -> impl TextMapPropagator + Send + Sync + 'static {
    TextMapCompositePropagator::new(vec![
        Box::new(B3Propagator::with_encoding(B3Encoding::SingleAndMultiHeader)),
        Box::new(TraceContextPropagator::new()),
    ])
}

/// Installs the global subscriber and the trace pipeline. Call once, inside the Tokio runtime:
/// the OTLP/gRPC exporter's connection lives on it.
///
/// The exporter follows the standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), `OTEL_EXPORTER_OTLP_PROTOCOL` (`grpc`,
/// `http/protobuf`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER` and its argument. With no
/// endpoint no OpenTelemetry span is built, while server spans still give logs and errors a trace
/// id (the caller's, else a new one).
pub fn init(config: &Config) -> anyhow::Result<Telemetry> {
    let mut builder = SdkTracerProvider::builder().with_resource(resource());
    let exporting = export_wanted(env);
    if exporting {
        let exporter = opentelemetry_otlp::SpanExporter::builder().build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    global::set_text_map_propagator(propagator());
    global::set_tracer_provider(provider.clone());
    // Statements of background work (revocation sync, database pings) would each start a trace
    // of their own every few seconds: only statements inside a request's span are traced.
    let in_a_span = dynamic_filter_fn(|metadata, context| {
        !metadata.target().starts_with("sea_orm") || context.lookup_current().is_some()
    });
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("sigil"))
        .with_filter(EnvFilter::try_new(TRACE_FILTER)?.and(in_a_span));
    // Without an exporter the OpenTelemetry layer would build every span only to drop it, which
    // costs a cache-answered ValidateToken about a quarter of its throughput: server spans then
    // carry plain ids instead ([`continue_trace`]).
    let otel = exporting.then_some(otel);
    // Colours only for a person at a terminal, not in a log collector's files. JSON lines carry no
    // span fields, so spans' fields are not formatted for them at all (the layer would otherwise
    // format every span's fields as it opens, on every call).
    let logs = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stdout().is_terminal())
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .fmt_fields(json::NoSpanFields)
            .event_format(json::JsonWithTrace)
            .boxed(),
    };
    // The log filter applies to logs only: a quieter log level must not cut traces.
    let logs = logs.with_filter(EnvFilter::try_new(&config.log)?);
    tracing_subscriber::registry().with(otel).with(logs).try_init()?;
    TRACING.store(exporting, Ordering::Relaxed);
    if env("SIGIL_OTLP_ENDPOINT").is_some() {
        tracing::warn!(
            "SIGIL_OTLP_ENDPOINT is no longer read: set OTEL_EXPORTER_OTLP_ENDPOINT (and \
             OTEL_EXPORTER_OTLP_PROTOCOL=grpc for a collector's port 4317)"
        );
    }
    Ok(Telemetry { provider })
}

/// Reads trace context from HTTP headers or gRPC metadata (which travel as HTTP/2 headers).
struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Whether spans go to OpenTelemetry (an exporter is configured), set by [`init`].
static TRACING: AtomicBool = AtomicBool::new(false);

/// The ids of a server span when spans are not exported: the caller's trace id (or a new one)
/// and a new span id, kept in the span's extensions so that logs and error answers still name
/// the caller's trace.
#[derive(Clone, Copy, Debug)]
struct LocalIds {
    trace_id: TraceId,
    span_id: SpanId,
}

/// Whether spans are exported to OpenTelemetry. Without an exporter, server spans need only
/// the fields logs show; the OpenTelemetry conventions' fields (`otel.*`, `rpc.system`) would be
/// formatted for nothing on every call.
pub fn exporting() -> bool {
    TRACING.load(Ordering::Relaxed)
}

/// Makes server span `span` a child of the trace context the caller sent in `headers`, if any.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let caller = parent.span().span_context().clone();
    if TRACING.load(Ordering::Relaxed) {
        if caller.is_valid() {
            // Fails only when no OpenTelemetry layer is installed, and then there is nothing to link.
            let _ = span.set_parent(parent);
        }
        return;
    }
    let ids = LocalIds {
        trace_id: if caller.is_valid() {
            caller.trace_id()
        } else {
            RandomIdGenerator::default().new_trace_id()
        },
        span_id: RandomIdGenerator::default().new_span_id(),
    };
    span.with_subscriber(|(id, dispatch)| {
        if let Some(span) = dispatch.downcast_ref::<Registry>().and_then(|r| r.span(id)) {
            span.extensions_mut().insert(ids);
        }
    });
}

/// The trace and span ids to log with an event in `span`, the current span: OpenTelemetry's
/// when spans are exported, else those [`continue_trace`] gave the server span it is part of.
pub(crate) fn ids_of<'a, R: LookupSpan<'a>>(span: &SpanRef<'a, R>) -> Option<(TraceId, SpanId)> {
    if TRACING.load(Ordering::Relaxed) {
        let context = tracing::Span::current().context();
        let otel = context.span();
        let ids = otel.span_context();
        return ids.is_valid().then(|| (ids.trace_id(), ids.span_id()));
    }
    span.scope()
        .find_map(|s| s.extensions().get::<LocalIds>().copied())
        .map(|ids| (ids.trace_id, ids.span_id))
}

/// The trace id of the current span, when it has one.
pub fn current_trace_id() -> Option<String> {
    tracing::Span::current()
        .with_subscriber(|(id, dispatch)| {
            let registry = dispatch.downcast_ref::<Registry>()?;
            ids_of(&registry.span(id)?)
        })
        .flatten()
        .map(|(trace_id, _)| trace_id.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::trace::{SpanId, TraceId};

    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .filter(|v| !v.is_empty())
        }
    }

    #[test]
    fn spans_are_exported_only_when_an_endpoint_is_configured() {
        assert!(!export_wanted(vars(&[])));
        assert!(export_wanted(vars(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://c:4317"
        )])));
        assert!(export_wanted(vars(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces"
        )])));
        assert!(!export_wanted(vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ])));
        assert!(!export_wanted(vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_SDK_DISABLED", "true"),
        ])));
    }

    #[test]
    fn the_service_is_sigil_unless_the_environment_names_it() {
        assert!(!service_named(vars(&[])));
        assert!(!service_named(vars(&[("OTEL_RESOURCE_ATTRIBUTES", "team=id")])));
        assert!(service_named(vars(&[("OTEL_SERVICE_NAME", "auth")])));
        assert!(service_named(vars(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "team=id, service.name=auth"
        )])));
    }

    fn extracted(headers: &[(&str, &str)]) -> (TraceId, SpanId) {
        let headers: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let context = propagator().extract(&headers);
        let span = context.span();
        let span_context = span.span_context();
        (span_context.trace_id(), span_context.span_id())
    }

    #[test]
    fn w3c_and_both_b3_encodings_are_understood() {
        let trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let span = SpanId::from_hex("00f067aa0ba902b7").unwrap();
        assert_eq!(
            extracted(&[(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            )]),
            (trace, span)
        );
        assert_eq!(
            extracted(&[("b3", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1")]),
            (trace, span)
        );
        assert_eq!(
            extracted(&[
                ("x-b3-traceid", "4bf92f3577b34da6a3ce929d0e0e4736"),
                ("x-b3-spanid", "00f067aa0ba902b7"),
                ("x-b3-sampled", "1"),
            ]),
            (trace, span)
        );
        assert_eq!(extracted(&[]), (TraceId::INVALID, SpanId::INVALID));
    }
}

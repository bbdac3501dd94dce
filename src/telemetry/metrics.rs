//! Prometheus metrics, served at `GET /metrics` in the OpenMetrics text format (which Prometheus
//! reads natively). Each [`Application`](crate::Application) has its own registry, so servers
//! started side by side (as tests do) count apart.
//!
//! Label values come from bounded sets only: gRPC methods sigil serves (anything else is
//! `unknown`), HTTP route templates (not paths), status codes, and fixed outcome and kind names.

use std::{
    sync::{Arc, OnceLock, atomic::AtomicU64},
    time::Duration,
};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
        info::Info,
    },
    registry::{Registry, Unit},
};

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of one gRPC call, after the grpc-prometheus convention.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrpcLabels {
    grpc_service: String,
    grpc_method: String,
    grpc_code: &'static str,
}

/// A gRPC method, for the in-flight gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrpcMethodLabels {
    grpc_service: String,
    grpc_method: String,
}

/// Labels of one HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Request latencies: 1 ms to about 16 s.
fn request_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Time waiting for a hashing thread: 100 µs to about 6.5 s.
fn wait_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// The connections of the database pool, read when metrics are scraped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Connections lent out.
    pub in_use: u32,
    /// Connections open and waiting in the pool.
    pub idle: u32,
}

type PoolProbe = Box<dyn Fn() -> PoolUsage + Send + Sync>;
type AgeProbe = Box<dyn Fn() -> Option<Duration> + Send + Sync>;

/// What sigil counts. Cheap to share behind an `Arc`.
pub struct Metrics {
    registry: Registry,
    grpc_handled: Family<GrpcLabels, Counter>,
    grpc_seconds: Family<GrpcLabels, Histogram, fn() -> Histogram>,
    grpc_in_flight: Family<GrpcMethodLabels, Gauge>,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<HttpLabels, Histogram, fn() -> Histogram>,
    http_in_flight: Gauge,
    sign_ins: Family<OutcomeLabels, Counter>,
    tokens_issued: Family<KindLabels, Counter>,
    hash_queue_depth: Gauge,
    hash_wait_seconds: Histogram,
    hash_skipped: Counter,
    db_connections: Family<StateLabels, Gauge>,
    pool_probe: OnceLock<PoolProbe>,
    revocation_syncs: Family<OutcomeLabels, Counter>,
    revocation_sync_age: Gauge<f64, AtomicU64>,
    revocation_probe: OnceLock<AgeProbe>,
    key_checks: Family<OutcomeLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The kinds of token sigil issues, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A user's access token (JWT).
    Access,
    /// A user's refresh token.
    Refresh,
    /// An environment (vendor) token.
    Environment,
}

impl TokenKind {
    fn label(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Environment => "environment",
        }
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sigil");
        let grpc_handled = Family::<GrpcLabels, Counter>::default();
        registry.register(
            "grpc_server_handled",
            "gRPC calls completed, by service, method and status code",
            grpc_handled.clone(),
        );
        let grpc_seconds = Family::<GrpcLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            request_seconds as fn() -> Histogram,
        );
        registry.register_with_unit(
            "grpc_server_handling",
            "Time from a gRPC call's arrival to the end of its response",
            Unit::Seconds,
            grpc_seconds.clone(),
        );
        let grpc_in_flight = Family::<GrpcMethodLabels, Gauge>::default();
        registry.register(
            "grpc_server_in_flight",
            "gRPC calls being served",
            grpc_in_flight.clone(),
        );
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_server_requests",
            "HTTP requests completed, by method, route and status",
            http_requests.clone(),
        );
        let http_seconds = Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            request_seconds as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_server_request_duration",
            "Time from an HTTP request's arrival to its response",
            Unit::Seconds,
            http_seconds.clone(),
        );
        let http_in_flight = Gauge::default();
        registry.register(
            "http_server_in_flight",
            "HTTP requests being served",
            http_in_flight.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Password sign-ins, by outcome: success or the error reason in lower case",
            sign_ins.clone(),
        );
        let tokens_issued = Family::<KindLabels, Counter>::default();
        registry.register(
            "tokens_issued",
            "Tokens issued, by kind: access, refresh, environment",
            tokens_issued.clone(),
        );
        let hash_queue_depth = Gauge::default();
        registry.register(
            "password_hash_queue_depth",
            "Password hash jobs waiting for a hashing thread",
            hash_queue_depth.clone(),
        );
        let hash_wait_seconds = wait_seconds();
        registry.register_with_unit(
            "password_hash_wait",
            "Time a password hash job waited for a hashing thread",
            Unit::Seconds,
            hash_wait_seconds.clone(),
        );
        let hash_skipped = Counter::default();
        registry.register(
            "password_hash_skipped",
            "Password hash jobs dropped unrun because their caller had gone",
            hash_skipped.clone(),
        );
        let db_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections, by state: in_use or idle",
            db_connections.clone(),
        );
        let revocation_syncs = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "revocation_syncs",
            "Reads of the session revocations other replicas recorded, by outcome: ok or error",
            revocation_syncs.clone(),
        );
        let revocation_sync_age = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "revocation_sync_age",
            "Time since the last successful read of session revocations began (by sigil's clock)",
            Unit::Seconds,
            revocation_sync_age.clone(),
        );
        let key_checks = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "signing_key_checks",
            "Periodic checks of the signing keys (reload, and rotation when enabled), by outcome: ok or error",
            key_checks.clone(),
        );
        registry.register(
            "build",
            "sigil's version; the value is always 1",
            Info::new(BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Self {
            registry,
            grpc_handled,
            grpc_seconds,
            grpc_in_flight,
            http_requests,
            http_seconds,
            http_in_flight,
            sign_ins,
            tokens_issued,
            hash_queue_depth,
            hash_wait_seconds,
            hash_skipped,
            db_connections,
            pool_probe: OnceLock::new(),
            revocation_syncs,
            revocation_sync_age,
            revocation_probe: OnceLock::new(),
            key_checks,
        }
    }

    /// A fresh set, shared.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::new())
    }

    /// Reads the database pool's usage at each scrape. Set once; later calls are ignored.
    pub fn watch_pool(&self, probe: impl Fn() -> PoolUsage + Send + Sync + 'static) {
        let _ = self.pool_probe.set(Box::new(probe));
    }

    /// Reads the age of the revocation cache at each scrape (`None` before its first read). Set
    /// once; later calls are ignored.
    pub fn watch_revocation_sync(&self, probe: impl Fn() -> Option<Duration> + Send + Sync + 'static) {
        let _ = self.revocation_probe.set(Box::new(probe));
    }

    /// A read of the session revocations ended, successfully or not.
    pub fn revocation_sync(&self, ok: bool) {
        self.revocation_syncs
            .get_or_create(&OutcomeLabels {
                outcome: if ok { "ok" } else { "error" }.to_owned(),
            })
            .inc();
    }

    /// A periodic check of the signing keys ended, successfully or not.
    pub fn key_check(&self, ok: bool) {
        self.key_checks
            .get_or_create(&OutcomeLabels {
                outcome: if ok { "ok" } else { "error" }.to_owned(),
            })
            .inc();
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        if let Some(probe) = self.revocation_probe.get() {
            // Before the first read there is no age: NaN says "unknown" to Prometheus.
            self.revocation_sync_age
                .set(probe().map_or(f64::NAN, |age| age.as_secs_f64()));
        }
        if let Some(probe) = self.pool_probe.get() {
            let usage = probe();
            self.db_connections
                .get_or_create(&StateLabels { state: "in_use" })
                .set(i64::from(usage.in_use));
            self.db_connections
                .get_or_create(&StateLabels { state: "idle" })
                .set(i64::from(usage.idle));
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// The series of gRPC method `service`/`method`, to count its calls with.
    pub fn grpc_series(&self, service: &str, method: &str) -> GrpcSeries {
        GrpcSeries {
            labels: GrpcMethodLabels {
                grpc_service: service.to_owned(),
                grpc_method: method.to_owned(),
            },
            in_flight: OnceLock::new(),
            handled: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// A call of the method of `series` started; the returned guard counts it as in flight until
    /// dropped.
    pub fn grpc_started(&self, series: &GrpcSeries) -> InFlight {
        let gauge = series
            .in_flight
            .get_or_init(|| self.grpc_in_flight.get_or_create_owned(&series.labels));
        gauge.inc();
        InFlight(gauge.clone())
    }

    /// A call of the method of `series` ended with status `code` after `elapsed`.
    pub fn grpc_handled(&self, series: &GrpcSeries, code: i32, elapsed: Duration) {
        // Codes outside gRPC's own count as UNKNOWN, as they are named.
        let slot = usize::try_from(code)
            .ok()
            .filter(|&slot| slot < GRPC_CODES)
            .unwrap_or(UNKNOWN);
        let (handled, seconds) = series.handled[slot].get_or_init(|| {
            let labels = GrpcLabels {
                grpc_service: series.labels.grpc_service.clone(),
                grpc_method: series.labels.grpc_method.clone(),
                grpc_code: grpc_code_name(code),
            };
            (
                self.grpc_handled.get_or_create_owned(&labels),
                self.grpc_seconds.get_or_create_owned(&labels),
            )
        });
        handled.inc();
        seconds.observe(elapsed.as_secs_f64());
    }

    /// An HTTP request started; in flight until the guard is dropped.
    pub fn http_started(&self) -> InFlight {
        self.http_in_flight.inc();
        InFlight(self.http_in_flight.clone())
    }

    /// An HTTP request to `route` (its template, or `none` when no route matched) was answered.
    pub fn http_handled(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = HttpLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status,
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// A password sign-in ended: `success`, or the error's reason.
    pub fn sign_in(&self, outcome: &str) {
        self.sign_ins
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_ascii_lowercase(),
            })
            .inc();
    }

    /// A token was issued.
    pub fn token_issued(&self, kind: TokenKind) {
        self.tokens_issued
            .get_or_create(&KindLabels { kind: kind.label() })
            .inc();
    }

    /// A password hash job joined the queue.
    pub fn hash_queued(&self) {
        self.hash_queue_depth.inc();
    }

    /// A password hash job was dropped unrun: its caller had gone.
    pub fn hash_skipped(&self) {
        self.hash_skipped.inc();
    }

    /// A password hash job left the queue (taken by a thread, or refused) after `waited`.
    pub fn hash_dequeued(&self, waited: Option<Duration>) {
        self.hash_queue_depth.dec();
        if let Some(waited) = waited {
            self.hash_wait_seconds.observe(waited.as_secs_f64());
        }
    }
}

/// gRPC status codes: 0 (`OK`) to 16 (`UNAUTHENTICATED`).
const GRPC_CODES: usize = 17;

/// The code of `UNKNOWN`.
const UNKNOWN: usize = 2;

/// Name of a gRPC status code, as the gRPC specification spells it.
pub fn grpc_code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// The series of one gRPC method, found in their families on first use and kept: a call then
/// counts itself without building labels or searching a family.
#[derive(Debug)]
pub struct GrpcSeries {
    labels: GrpcMethodLabels,
    in_flight: OnceLock<Gauge>,
    handled: [OnceLock<(Counter, Histogram)>; GRPC_CODES],
}

impl GrpcSeries {
    /// The service, as labels name it.
    pub fn service(&self) -> &str {
        &self.labels.grpc_service
    }

    /// The method, as labels name it.
    pub fn method(&self) -> &str {
        &self.labels.grpc_method
    }
}

/// Counts one request as in flight while alive.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendering_names_every_metric_with_the_sigil_prefix() {
        let metrics = Metrics::new();
        metrics.watch_pool(|| PoolUsage { in_use: 1, idle: 3 });
        let login = metrics.grpc_series("identity.v1.AuthService", "Login");
        metrics.grpc_handled(&login, 0, Duration::from_millis(3));
        metrics.http_handled("GET", "/readyz", 200, Duration::from_millis(1));
        metrics.sign_in("INVALID_CREDENTIALS");
        metrics.token_issued(TokenKind::Refresh);
        let text = metrics.render();
        for line in [
            "sigil_grpc_server_handled_total{grpc_service=\"identity.v1.AuthService\",grpc_method=\"Login\",grpc_code=\"OK\"} 1",
            "sigil_http_server_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1",
            "sigil_sign_ins_total{outcome=\"invalid_credentials\"} 1",
            "sigil_tokens_issued_total{kind=\"refresh\"} 1",
            "sigil_db_pool_connections{state=\"in_use\"} 1",
            "sigil_db_pool_connections{state=\"idle\"} 3",
            "sigil_password_hash_queue_depth 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        assert!(text.contains("sigil_build_info{version=\""));
        assert!(text.contains("sigil_grpc_server_handling_seconds_bucket{"));
        assert!(text.ends_with("# EOF\n"));
    }
}

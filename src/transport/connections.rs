//! Bounds on the connections the listeners hold: how many at once, how long a request head may
//! take to arrive, how long a connection may sit with no request in flight, and HTTP/2 keepalive
//! pings and stream limits. Without them a client could hold connections (and so file
//! descriptors) for as long as it liked, until no port, health included, accepted any more.
//!
//! Each listener holds at most [`Limits::max_connections`] connections; past that it admits up
//! to [`PROBE_CONNECTIONS`] more that may only ask for health (`/livez`, `/readyz`, `/healthz`;
//! `grpc.health.v1.Health/Check`) and are closed within [`PROBE_IDLE`] of their answer, so
//! probes, which open a connection each time, are answered while idle clients fill the port.
//! When those are taken too, a new connection is accepted and closed at once: the clients it
//! turns away fail fast (a load balancer tries another replica), and the kernel's backlog stays
//! empty, so the next probe is accepted at once rather than queued behind them.

pub mod grpc;
pub mod http;
mod io;

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures_util::task::AtomicWaker;
use http_body::{Body, Frame, SizeHint};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};

pub use io::{Io, Peer};

/// Connections each API port admits beyond its cap, for health probes only.
pub const PROBE_CONNECTIONS: usize = 8;

/// How long a connection admitted for probes only may go without a request in flight.
pub const PROBE_IDLE: Duration = Duration::from_secs(1);

/// Connections the separate metrics listener admits at once (a few scrapers).
pub const METRICS_CONNECTIONS: usize = 16;

/// File descriptors kept for what is not a client connection: the listeners, the runtime, log
/// and database files, DNS, the trace exporter.
pub const OTHER_FILES: u64 = 64;

/// Idle time after which the kernel probes a silent peer, so connections to vanished clients end.
pub const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// What bounds the connections of a listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long an HTTP/1 request head may take to arrive, from its first byte.
    pub header_timeout: Duration,
    /// How long a connection may stay open with no request in flight.
    pub idle_timeout: Duration,
    /// How often an HTTP/2 connection is pinged.
    pub http2_keepalive_interval: Duration,
    /// How long an HTTP/2 ping may go unanswered before the connection is closed.
    pub http2_keepalive_timeout: Duration,
    /// Most streams (requests) open at once on one HTTP/2 connection.
    pub max_concurrent_streams: u32,
    /// Most connections the listener holds at once, besides those kept for probes.
    pub max_connections: usize,
}

/// Raises the soft limit on open files to the hard limit, and returns the limit in force.
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// The default connection cap of each API port under a limit of `open_files`: what is left
/// after the database pool, the metrics listener, the probe slots and [`OTHER_FILES`], split
/// evenly between the gRPC and the HTTP port.
pub fn default_max_connections(open_files: u64, database_connections: u32) -> usize {
    let reserved = OTHER_FILES
        + u64::from(database_connections)
        + METRICS_CONNECTIONS as u64
        + 2 * PROBE_CONNECTIONS as u64;
    let per_port = open_files.saturating_sub(reserved) / 2;
    usize::try_from(per_port)
        .unwrap_or(usize::MAX)
        .clamp(1, Semaphore::MAX_PERMITS)
}

/// The slots of one listener: regular ones, and the few kept for probes.
#[derive(Clone)]
struct Admission {
    regular: Arc<Semaphore>,
    probes: Arc<Semaphore>,
}

/// A slot held by one connection until it closes.
struct Ticket {
    _permit: OwnedSemaphorePermit,
    probe_only: bool,
}

impl Admission {
    fn new(regular: usize, probes: usize) -> Self {
        Self {
            regular: Arc::new(Semaphore::new(regular.min(Semaphore::MAX_PERMITS))),
            probes: Arc::new(Semaphore::new(probes.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// A free slot: a regular one, or, while those are all taken, one for probes.
    fn admit(&self) -> Option<Ticket> {
        if let Ok(permit) = self.regular.clone().try_acquire_owned() {
            return Some(Ticket {
                _permit: permit,
                probe_only: false,
            });
        }
        let permit = self.probes.clone().try_acquire_owned().ok()?;
        Some(Ticket {
            _permit: permit,
            probe_only: true,
        })
    }
}

/// What one connection's parts share: its requests in flight, when the current request head
/// began, whether it is admitted for probes only, and a switch that cuts it.
///
/// Requests are counted with atomics alone: nothing is woken when one starts or ends (that cost
/// every call two task wake-ups). The idle timer instead sleeps until the idle period after the
/// last start or end, and looks again.
pub struct Connection {
    opened: Instant,
    probe_only: bool,
    in_flight: AtomicUsize,
    /// Nanoseconds from `opened` to the last time a request started or ended.
    last_active: AtomicU64,
    /// Turns true once the socket is dropped.
    closed: watch::Sender<bool>,
    /// Nanoseconds from `opened` to the first byte read since the last request ended (or the
    /// connection opened); 0 when none has come.
    head_started: AtomicU64,
    aborted: AtomicBool,
    abort_waker: AtomicWaker,
}

impl Connection {
    fn new(probe_only: bool) -> Self {
        Self {
            opened: Instant::now(),
            probe_only,
            in_flight: AtomicUsize::new(0),
            last_active: AtomicU64::new(0),
            closed: watch::Sender::new(false),
            head_started: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
            abort_waker: AtomicWaker::new(),
        }
    }

    /// Nanoseconds since the connection opened.
    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether the connection was admitted beyond the cap, to answer health probes only.
    pub fn probe_only(&self) -> bool {
        self.probe_only
    }

    /// Counts a request in flight until the returned guard is dropped.
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.last_active.store(self.now(), Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Notes that bytes arrived.
    fn read_some(&self) {
        if self.head_started.load(Ordering::Relaxed) == 0 {
            let since = self.now();
            // 0 means "none yet": a first byte in the very first nanosecond counts as 1.
            let _ = self
                .head_started
                .compare_exchange(0, since.max(1), Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// When the first byte since the last request ended (or the connection opened) arrived.
    fn head_started(&self) -> Option<Instant> {
        match self.head_started.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(self.opened + Duration::from_nanos(nanos)),
        }
    }

    /// Completes once the connection has had no request in flight for `period`.
    async fn idle_for(&self, period: Duration) {
        loop {
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                // A long call (a stream): look again a period later.
                tokio::time::sleep(period).await;
                continue;
            }
            let active = Duration::from_nanos(self.last_active.load(Ordering::SeqCst));
            let idle = self.opened.elapsed().saturating_sub(active);
            if idle >= period {
                return;
            }
            tokio::time::sleep(period - idle).await;
        }
    }

    /// Completes once the connection is asked to close on its own: when idle for the idle
    /// timeout, or, if admitted for probes only, when idle for [`PROBE_IDLE`] or at the latest
    /// once the header timeout has passed.
    async fn should_close(&self, limits: &Limits) {
        if self.probe_only {
            let idle = self.idle_for(PROBE_IDLE.min(limits.idle_timeout));
            let _ = tokio::time::timeout(limits.header_timeout, idle).await;
        } else {
            self.idle_for(limits.idle_timeout).await;
        }
    }

    /// How long the connection may take to close once asked before it is cut: enough for a
    /// request that raced the close to finish, or none for one admitted for probes only.
    fn close_grace(&self, limits: &Limits) -> Duration {
        if self.probe_only {
            Duration::ZERO
        } else {
            limits.header_timeout
        }
    }

    /// Completes once the connection's socket is dropped.
    async fn closed(&self) {
        let _ = self.closed.subscribe().wait_for(|closed| *closed).await;
    }

    /// Makes the connection's reads and writes fail, so whoever serves it drops it.
    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        self.abort_waker.wake();
    }

    /// Whether the connection was aborted; otherwise `cx` is woken when it is.
    fn poll_aborted(&self, cx: &Context<'_>) -> bool {
        self.abort_waker.register(cx.waker());
        self.aborted.load(Ordering::SeqCst)
    }
}

/// A request in flight on a connection, until dropped.
pub struct InFlight(Arc<Connection>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            // The next request's head starts with the next byte.
            self.0.head_started.store(0, Ordering::Relaxed);
        }
        self.0.last_active.store(self.0.now(), Ordering::SeqCst);
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request counted in flight until the body is dropped,
    /// which hyper does once it has sent it (or the stream is reset).
    pub struct Tracked<B> {
        #[pin]
        body: B,
        in_flight: InFlight,
    }
}

impl<B> Tracked<B> {
    /// `body`, keeping `in_flight` until it is dropped.
    pub fn new(body: B, in_flight: InFlight) -> Self {
        Self { body, in_flight }
    }
}

impl<B: Body> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Accepts connections on `listener` until `stop` turns true, handing each that gets a slot to
/// `serve` (which must keep `open` until the connection is done) and closing the others at
/// once; then waits for every connection to be done.
async fn accept_until_stopped(
    listener: TcpListener,
    admission: Admission,
    mut stop: watch::Receiver<bool>,
    mut serve: impl FnMut(Io, std::net::SocketAddr, watch::Receiver<()>),
) {
    let (open_tx, open_rx) = watch::channel(());
    let mut warned: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        match accepted {
            Ok((stream, peer)) => match admission.admit() {
                Some(ticket) => {
                    configure(&stream);
                    serve(Io::new(stream, ticket), peer, open_rx.clone());
                }
                None => {
                    drop(stream);
                    if warned.is_none_or(|warned| warned.elapsed() >= FULL_WARNING_INTERVAL) {
                        warned = Some(Instant::now());
                        let local = listener.local_addr().ok();
                        tracing::warn!(?local, "every connection slot is taken; closing new connections");
                    }
                }
            },
            Err(error) => accept_failed(error).await,
        }
    }
    // Stop listening at once, so that new clients are refused rather than left waiting.
    drop(listener);
    drop(open_rx);
    open_tx.closed().await;
}

/// How often a full listener says so in the logs, at most.
const FULL_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Small responses must not wait on Nagle's algorithm for the client's delayed ACK, and the
/// kernel should notice peers that vanished.
fn configure(stream: &TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "cannot set TCP_NODELAY");
    }
    let keepalive = socket2::TcpKeepalive::new().with_time(TCP_KEEPALIVE);
    if let Err(error) = socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive) {
        tracing::debug!(%error, "cannot set TCP keepalive");
    }
}

/// Errors of `accept` that concern one connection pass; others (out of file descriptors) are
/// waited out rather than retried in a busy loop.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_leaves_room_for_everything_else() {
        // 512 files: 64 + 4 (SQLite pool) + 16 (metrics) + 16 (probes) kept, the rest split.
        assert_eq!(default_max_connections(512, 4), 206);
        assert_eq!(default_max_connections(1_048_576, 16), 524_232);
        assert_eq!(default_max_connections(16, 4), 1, "never none");
        assert_eq!(default_max_connections(u64::MAX, 16), Semaphore::MAX_PERMITS);
    }

    #[test]
    fn probes_get_slots_only_once_the_regular_ones_are_taken() {
        let admission = Admission::new(2, 1);
        let first = admission.admit().unwrap();
        let second = admission.admit().unwrap();
        assert!(!first.probe_only && !second.probe_only);
        let probe = admission.admit().unwrap();
        assert!(probe.probe_only);
        assert!(admission.admit().is_none(), "every slot is taken");
        drop(first);
        let next = admission.admit().unwrap();
        assert!(!next.probe_only);
    }

    #[tokio::test]
    async fn a_connection_is_idle_once_its_last_request_ends() {
        let connection = Arc::new(Connection::new(false));
        let request = connection.request_started();
        let idle = tokio::time::timeout(
            Duration::from_millis(100),
            connection.idle_for(Duration::from_millis(10)),
        );
        assert!(idle.await.is_err(), "busy while the request is in flight");
        connection.read_some();
        assert!(connection.head_started().is_some());
        drop(request);
        assert!(connection.head_started().is_none(), "the next head starts afresh");
        tokio::time::timeout(
            Duration::from_secs(1),
            connection.idle_for(Duration::from_millis(10)),
        )
        .await
        .unwrap();
    }
}

//! Serving the HTTP port (the REST gateway and the probes) and the metrics listener with hyper,
//! HTTP/1 and HTTP/2 alike, within [`Limits`].
//!
//! hyper's HTTP/1 header timeout starts as soon as a connection waits for a request head,
//! between requests too, so it would also cut idle keep-alive connections after the header
//! timeout. Each connection gives it a clock of its own ([`HeadTimer`]) that starts at the
//! head's first byte instead: a slow head is cut after the header timeout, and a quiet
//! connection is left to the idle timeout, which closes every connection with no request in
//! flight, HTTP/1 or HTTP/2, gracefully.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{HeaderValue, Method, Request, Response, Version, header},
    response::IntoResponse,
};
use futures_util::future::BoxFuture;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower::{Service, ServiceExt};

use super::{Admission, Connection, Io, Limits, Tracked, accept_until_stopped};
use crate::{domain::Error, transport::rest::ApiError};

/// The paths a connection admitted for probes only may ask for.
const PROBES: &[&str] = &["/livez", "/readyz", "/healthz"];

/// Serves `listener` until `stop` turns true and the connections have closed; `make_service`
/// gives each connection its service from the peer's address. Past `limits.max_connections`,
/// up to `probe_connections` more are admitted for probes.
pub async fn serve<M, S>(
    listener: TcpListener,
    limits: Limits,
    probe_connections: usize,
    stop: watch::Receiver<bool>,
    make_service: M,
) where
    M: Service<SocketAddr, Response = S, Error = Infallible> + Clone + Send + 'static,
    M::Future: Send,
    S: Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Each connection sets the HTTP/1 timer: see `HeadTimer`.
    builder.http1().header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.http2_keepalive_interval)
        .keep_alive_timeout(limits.http2_keepalive_timeout)
        .max_concurrent_streams(limits.max_concurrent_streams);
    let admission = Admission::new(limits.max_connections, probe_connections);
    accept_until_stopped(listener, admission, stop.clone(), |io, peer, open| {
        let builder = builder.clone();
        let make_service = make_service.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            serve_connection(builder, make_service, io, peer, limits, stop).await;
            drop(open);
        });
    })
    .await;
}

async fn serve_connection<M, S>(
    mut builder: auto::Builder<TokioExecutor>,
    make_service: M,
    io: Io,
    peer: SocketAddr,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) where
    M: Service<SocketAddr, Response = S, Error = Infallible>,
    S: Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let connection = io.connection().clone();
    let inner = match make_service.oneshot(peer).await {
        Ok(service) => service,
        Err(never) => match never {},
    };
    builder.http1().timer(HeadTimer(connection.clone()));
    let service = TowerToHyperService::new(Track {
        inner,
        connection: connection.clone(),
    });
    let served = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(served);
    let should_close = connection.should_close(&limits);
    tokio::pin!(should_close);
    let stopping = async move {
        let _ = stop.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopping);
    let cut = tokio::time::sleep(Duration::MAX);
    tokio::pin!(cut);
    let mut closing = false;
    loop {
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(error = %error, "HTTP connection ended with an error");
                }
                return;
            }
            () = &mut should_close, if !closing => {
                served.as_mut().graceful_shutdown();
                closing = true;
                // One stuck in an HTTP/2 handshake would wait for it to end: cut it then.
                let grace = tokio::time::Instant::now() + connection.close_grace(&limits);
                cut.as_mut().reset(grace);
            }
            () = &mut stopping, if !closing => {
                // Requests in flight finish; the shutdown grace period bounds them.
                served.as_mut().graceful_shutdown();
                closing = true;
            }
            () = &mut cut => {
                tracing::debug!("cutting an HTTP connection that did not close when asked");
                return;
            }
        }
    }
}

/// The clock hyper's HTTP/1 header timeout runs on for one connection: each timeout counts from
/// the first byte that arrived since the last request ended, so the wait for that byte is the
/// idle timeout's business.
///
/// hyper uses this timer for the header timeout alone, and polls it right after reading from
/// the socket, which wakes it when bytes come: until then, its sleep is pending without a
/// timer of its own.
#[derive(Clone)]
struct HeadTimer(Arc<Connection>);

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeadSleep {
            connection: self.0.clone(),
            allowance: duration,
            sleep: None,
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(deadline.saturating_duration_since(Instant::now()))
    }
}

/// Ends `allowance` after the current head's first byte.
struct HeadSleep {
    connection: Arc<Connection>,
    allowance: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.sleep.is_none() {
            let Some(started) = this.connection.head_started() else {
                return Poll::Pending;
            };
            let deadline = tokio::time::Instant::from_std(started + this.allowance);
            this.sleep = Some(Box::pin(tokio::time::sleep_until(deadline)));
        }
        match this.sleep.as_mut() {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl hyper::rt::Sleep for HeadSleep {}

/// Counts each request in flight on its connection until its response is sent; on a
/// connection admitted for probes only, answers anything but a probe with 503 and closes.
#[derive(Clone)]
struct Track<S> {
    inner: S,
    connection: Arc<Connection>,
}

impl<S> Service<Request<Incoming>> for Track<S>
where
    S: Service<Request<Incoming>, Response = Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response<Tracked<Body>>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.connection.request_started();
        let probe_only = self.connection.probe_only();
        let http1 = request.version() < Version::HTTP_2;
        let response: BoxFuture<'static, Response<Body>> = if probe_only && !is_probe(&request) {
            let refused = Error::Unavailable("too many connections; retry shortly");
            Box::pin(std::future::ready(ApiError::from(refused).into_response()))
        } else {
            let future = self.inner.call(request);
            Box::pin(async move {
                match future.await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            })
        };
        Box::pin(async move {
            let mut response = response.await;
            if probe_only && http1 {
                // The slot is for the next probe: close after this answer.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| Tracked::new(body, in_flight)))
        })
    }
}

fn is_probe<B>(request: &Request<B>) -> bool {
    let path = request.uri().path();
    let path = path.strip_suffix('/').unwrap_or(path);
    matches!(*request.method(), Method::GET | Method::HEAD) && PROBES.contains(&path)
}

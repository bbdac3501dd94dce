//! Serving the gRPC port within [`Limits`] with tonic.
//!
//! tonic closes a connection gracefully (GOAWAY, then waiting for the streams still open) only
//! when its server stops or the connection reaches a maximum age: it has no idle timeout, and
//! hyper's HTTP/2 server has none either. So each connection is served by a tonic server of its
//! own over that one connection, whose stop signal fires once the connection has had no stream
//! open for the idle timeout (or sigil stops): tonic then closes it as it does on shutdown, and
//! everything tonic does per request (deadlines from `grpc-timeout`, errors as statuses) stays.

use std::{
    future::Future,
    task::{Context, Poll},
};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
};
use tonic::Status;
use tower::{Layer, Service};

use super::{Admission, Io, Limits, PROBE_CONNECTIONS, Peer, Tracked, accept_until_stopped};
use crate::domain::Error;

/// The one method a connection admitted for probes only may call.
const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// Serves `listener` until `stop` turns true and the connections have closed. `serve_one`
/// serves one connection with tonic until the given signal completes, then closes it
/// gracefully: `router.clone().serve_with_incoming_shutdown(..)` over a stream of that one
/// connection. Its router must have [`TrackLayer`] as its outermost layer.
pub async fn serve<F, Fut>(listener: TcpListener, limits: Limits, stop: watch::Receiver<bool>, serve_one: F)
where
    F: Fn(Io, BoxFuture<'static, ()>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), tonic::transport::Error>> + Send + 'static,
{
    let admission = Admission::new(limits.max_connections, PROBE_CONNECTIONS);
    accept_until_stopped(listener, admission, stop.clone(), |io, _peer, open| {
        let serve_one = serve_one.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            serve_connection(serve_one, io, limits, stop).await;
            drop(open);
        });
    })
    .await;
}

/// Why a connection's server was told to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// The connection closed by itself.
    Closed,
    /// It was idle for the idle timeout, or its time as a probe's connection is up.
    Asked,
    /// sigil is stopping; the shutdown grace period bounds what follows.
    Stopping,
}

async fn serve_connection<F, Fut>(serve_one: F, io: Io, limits: Limits, mut stop: watch::Receiver<bool>)
where
    F: Fn(Io, BoxFuture<'static, ()>) -> Fut,
    Fut: Future<Output = Result<(), tonic::transport::Error>>,
{
    let connection = io.connection().clone();
    let (told, why) = oneshot::channel();
    let signal = {
        let connection = connection.clone();
        async move {
            let close = tokio::select! {
                () = connection.closed() => Close::Closed,
                () = connection.should_close(&limits) => Close::Asked,
                _ = stop.wait_for(|stop| *stop) => Close::Stopping,
            };
            let _ = told.send(close);
        }
    };
    let served = serve_one(io, Box::pin(signal));
    tokio::pin!(served);
    let result = tokio::select! {
        result = &mut served => result,
        Ok(Close::Asked) = why => {
            match tokio::time::timeout(connection.close_grace(&limits), &mut served).await {
                Ok(result) => result,
                Err(_) => {
                    // Such as one stuck in its HTTP/2 handshake, which a GOAWAY does not end.
                    tracing::debug!("cutting a gRPC connection that did not close when asked");
                    connection.abort();
                    served.await
                }
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(error = %error, "gRPC connection ended with an error");
    }
}

/// The outermost layer of the gRPC server: copies the peer's address where
/// `tonic::Request::remote_addr` looks for it, counts each call in flight on its connection
/// until its response is sent, and on a connection admitted for probes only, answers anything
/// but a health check with UNAVAILABLE.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackLayer;

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track { inner }
    }
}

/// See [`TrackLayer`].
#[derive(Debug, Clone)]
pub struct Track<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for Track<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: http_body::Body<Data = Bytes> + Send + 'static,
    R::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let Some(peer) = request.extensions_mut().remove::<Peer>() else {
            let future = self.inner.call(request);
            return Box::pin(async move { Ok(future.await?.map(tonic::body::Body::new)) });
        };
        request.extensions_mut().insert(peer.tcp);
        let in_flight = peer.connection.request_started();
        if peer.connection.probe_only() && request.uri().path() != HEALTH_CHECK {
            let refused = Status::from(Error::Unavailable("too many connections; retry shortly"));
            return Box::pin(std::future::ready(Ok(refused.into_http())));
        }
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            Ok(response.map(|body| tonic::body::Body::new(Tracked::new(body, in_flight))))
        })
    }
}

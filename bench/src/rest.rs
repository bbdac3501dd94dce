//! A lean HTTP/1.1 client for the REST scenarios, driven the way wrk drives a server: one
//! keep-alive connection per worker, and the next request on it only once the previous answer
//! has been read in full.

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// An answer read in full.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("the answer is not JSON")
    }

    /// The status and the start of the body, to show what went wrong.
    pub fn describe(&self) -> String {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(300).collect();
        format!("HTTP {}: {body}", self.status.as_u16())
    }
}

/// One keep-alive connection. When the server closes it, the next request opens another (and
/// counts it in `reconnects`).
pub struct Connection {
    address: String,
    host: HeaderValue,
    send: Option<SendRequest<Full<Bytes>>>,
    /// Connections opened after the first.
    pub reconnects: u64,
}

impl Connection {
    /// Opens a connection to `http://host:port`.
    pub async fn open(origin: &str) -> anyhow::Result<Self> {
        let address = origin
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut connection = Self {
            host: HeaderValue::from_str(&address)?,
            address,
            send: None,
            reconnects: 0,
        };
        connection.connect().await?;
        connection.reconnects = 0;
        Ok(connection)
    }

    async fn connect(&mut self) -> anyhow::Result<()> {
        let stream = tokio::net::TcpStream::connect(&self.address)
            .await
            .with_context(|| format!("connecting to {}", self.address))?;
        stream.set_nodelay(true)?;
        let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        self.send = Some(send);
        self.reconnects += 1;
        Ok(())
    }

    /// A request to `path` on this connection's server, with the Host header set.
    pub fn request(&self, method: Method, path: &str) -> http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone())
    }

    /// Sends `request` and reads the whole answer. After a failure the connection is dropped, and
    /// the next call opens a new one.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        if self.send.as_ref().is_none_or(SendRequest::is_closed) {
            self.connect().await?;
        }
        let send = self.send.as_mut().context("no connection")?;
        let answer = async {
            send.ready().await?;
            let response = send.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Answer { status, body })
        }
        .await;
        if answer.is_err() {
            self.send = None;
        }
        Ok(answer?)
    }
}

/// A JSON body.
pub fn json(value: &serde_json::Value) -> Full<Bytes> {
    Full::new(Bytes::from(value.to_string()))
}

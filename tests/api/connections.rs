//! Bounds on connections, over raw sockets: slow request heads, idle connections, HTTP/2
//! settings, and the connection cap with room for health probes.

use std::time::{Duration, Instant};

use sigil::{
    Config,
    transport::grpc::pb::{self, token_service_client::TokenServiceClient},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::{
    helpers::{TestApp, TestClock, TestDatabase, assert_error, spawn_with, test_config},
    process::Process,
};

async fn spawn_configured(change: impl FnOnce(&mut Config)) -> TestApp {
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    change(&mut config);
    spawn_with(database, config, TestClock::new()).await
}

/// Reads (and drops) what comes until the peer closes the connection; false if it is still
/// open after `limit`.
async fn closes_within(stream: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let drained = async {
        while let Ok(read) = stream.read(&mut buf).await {
            if read == 0 {
                break;
            }
        }
    };
    tokio::time::timeout(limit, drained).await.is_ok()
}

/// Sends `GET path` over HTTP/1.1 (kept alive) and returns the answer's status and head.
async fn get(stream: &mut TcpStream, path: &str) -> (u16, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: sigil.test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(read > 0, "closed before answering");
        data.extend_from_slice(&buf[..read]);
        let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |length| length.trim().parse().unwrap());
        if data.len() >= end + 4 + length {
            let status = head[9..12].parse().unwrap();
            return (status, head);
        }
    }
}

#[tokio::test]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_after_the_header_timeout() {
    let app = spawn_configured(|config| {
        config.http_header_timeout = Duration::from_secs(1);
        config.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let (mut reader, mut writer) = TcpStream::connect(app.http_addr).await.unwrap().into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let head = b"GET /livez HTTP/1.1\r\nHost: sigil.test\r\nX-Slow: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')) {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let closed = closes_within(&mut reader, Duration::from_secs(10)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(closed, "a head still arriving after 10 s is not cut");
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed <= Duration::from_secs(2),
        "cut after {elapsed:?}, not within the header timeout (1 s) + 1 s"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let app = spawn_configured(|config| {
        config.http_header_timeout = Duration::from_secs(1);
        config.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let mut stream = TcpStream::connect(app.http_addr).await.unwrap();
    assert_eq!(get(&mut stream, "/livez").await.0, 200);
    // Quiet for longer than the header timeout: still open, and it serves the next request.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(get(&mut stream, "/livez").await.0, 200);
    let answered = Instant::now();
    assert!(
        closes_within(&mut stream, Duration::from_secs(10)).await,
        "an idle connection is still open after 10 s"
    );
    let idle = answered.elapsed();
    assert!(
        idle >= Duration::from_millis(1800) && idle <= Duration::from_secs(4),
        "closed after {idle:?} idle, not after the idle timeout (2 s)"
    );
}

/// The client's side of an HTTP/2 connection opened with prior knowledge, read frame by frame.
struct Http2 {
    stream: TcpStream,
}

impl Http2 {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .unwrap();
        // An empty SETTINGS frame.
        stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).await.unwrap();
        Self { stream }
    }

    /// The next frame's type, flags and payload, after answering PINGs as a client must; None
    /// once the server has closed.
    async fn frame(&mut self) -> Option<(u8, u8, Vec<u8>)> {
        let mut header = [0u8; 9];
        self.stream.read_exact(&mut header).await.ok()?;
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let mut payload = vec![0; length];
        self.stream.read_exact(&mut payload).await.ok()?;
        if header[3] == 6 && header[4] & 1 == 0 {
            let mut ack = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
            ack.extend_from_slice(&payload);
            let _ = self.stream.write_all(&ack).await;
        }
        Some((header[3], header[4], payload))
    }

    /// The server's first SETTINGS, as (identifier, value) pairs; acknowledged.
    async fn settings(&mut self) -> Vec<(u16, u32)> {
        loop {
            let (kind, flags, payload) = self.frame().await.expect("the server's SETTINGS");
            if kind == 4 && flags & 1 == 0 {
                self.stream.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await.unwrap();
                return payload
                    .chunks_exact(6)
                    .map(|entry| {
                        (
                            u16::from_be_bytes([entry[0], entry[1]]),
                            u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]),
                        )
                    })
                    .collect();
            }
        }
    }
}

/// SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113, 6.5.2).
const MAX_CONCURRENT_STREAMS: u16 = 0x3;

#[tokio::test]
async fn both_ports_advertise_the_stream_limit_in_their_http2_settings() {
    let app = spawn_configured(|config| config.max_concurrent_streams = 7).await;
    for addr in [app.grpc_addr, app.http_addr] {
        let mut connection = Http2::connect(addr).await;
        let settings = tokio::time::timeout(Duration::from_secs(5), connection.settings())
            .await
            .expect("SETTINGS within 5 s");
        assert!(
            settings.contains(&(MAX_CONCURRENT_STREAMS, 7)),
            "{addr}: SETTINGS {settings:?} without MAX_CONCURRENT_STREAMS = 7"
        );
    }
}

#[tokio::test]
async fn an_idle_grpc_connection_is_sent_a_goaway_and_closed_after_the_idle_timeout() {
    let app = spawn_configured(|config| config.idle_timeout = Duration::from_secs(1)).await;
    let mut connection = Http2::connect(app.grpc_addr).await;
    connection.settings().await;
    let opened = Instant::now();
    let mut goaway = None;
    let frames = async {
        while let Some((kind, _, _)) = connection.frame().await {
            if kind == 7 {
                goaway.get_or_insert(opened.elapsed());
            }
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(10), frames)
            .await
            .is_ok(),
        "an idle gRPC connection is still open after 10 s"
    );
    let goaway = goaway.expect("a GOAWAY before the connection closed");
    assert!(
        goaway >= Duration::from_millis(800) && goaway <= Duration::from_secs(3),
        "GOAWAY after {goaway:?}, not after the idle timeout (1 s)"
    );
}

#[tokio::test]
async fn probes_are_answered_when_idle_clients_hold_every_connection() {
    let app = spawn_configured(|config| config.max_connections = Some(20)).await;

    // HTTP: keep-alive connections, each served once, until one is refused.
    let mut held = Vec::new();
    let refused = loop {
        let mut stream = TcpStream::connect(app.http_addr).await.unwrap();
        let (status, head) = get(&mut stream, "/.well-known/jwks.json").await;
        if status != 200 {
            break (status, head, stream);
        }
        held.push(stream);
        assert!(held.len() <= 20, "more connections held than the cap of 20");
    };
    assert_eq!(held.len(), 20);
    let (status, head, mut stream) = refused;
    assert_eq!(status, 503);
    assert!(head.contains("connection: close"), "{head}");
    assert!(closes_within(&mut stream, Duration::from_secs(2)).await);
    for probe in ["/readyz", "/livez", "/healthz"] {
        let mut stream = TcpStream::connect(app.http_addr).await.unwrap();
        assert_eq!(get(&mut stream, probe).await.0, 200, "{probe}");
    }
    // Once a client leaves, its slot serves anyone again.
    drop(held.pop());
    let mut served = false;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(app.http_addr).await.unwrap();
        if get(&mut stream, "/.well-known/jwks.json").await.0 == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "a freed slot does not serve a new client");

    // gRPC: the test's own channel holds one connection; more, each called once, until refused.
    let mut channels = Vec::new();
    let refused = loop {
        let channel = Channel::from_shared(format!("http://{}", app.grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let call = TokenServiceClient::new(channel.clone())
            .validate_token(pb::ValidateTokenRequest {
                access_token: "not-a-token".into(),
                ..Default::default()
            })
            .await;
        match call {
            Err(status) if status.code() == Code::Unavailable => break (status, channel),
            _ => channels.push(channel),
        }
        assert!(channels.len() <= 20, "more connections held than the cap of 20");
    };
    assert_eq!(channels.len(), 19, "the cap is 20 with the test's own channel");
    let (status, channel) = refused;
    assert_error(&status, Code::Unavailable, "UNAVAILABLE");
    // What a Kubernetes gRPC probe and grpc_health_probe do: a new connection, one Check.
    for channel in [
        channel,
        Channel::from_shared(format!("http://{}", app.grpc_addr))
            .unwrap()
            .connect()
            .await
            .unwrap(),
    ] {
        let health = HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(health.status, 1, "SERVING");
    }
}

#[tokio::test]
async fn with_512_open_files_probes_are_answered_while_600_idle_connections_wait() {
    // This test's own sockets must not run out first.
    sigil::transport::connections::raise_open_file_limit().unwrap();
    let process = Process::start_with_open_files(512, &[("SIGIL_DATABASE_MAX_CONNECTIONS", "4")]).await;
    for _ in 0..40 {
        if process.output().contains("max_connections=206") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        process.output().contains("max_connections=206"),
        "512 files, a pool of 4: a cap of 206 per port; output:\n{}",
        process.output()
    );
    let mut idle = Vec::new();
    for addr in [process.http_addr, process.grpc_addr] {
        for _ in 0..300 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
    }
    // As a probe does: a new connection each time, tried again a little later when it fails.
    let mut ready = false;
    for _ in 0..20 {
        let attempt = async {
            let mut stream = TcpStream::connect(process.http_addr).await.ok()?;
            let request = b"GET /readyz HTTP/1.1\r\nHost: sigil.test\r\n\r\n";
            stream.write_all(request).await.ok()?;
            let mut answer = [0u8; 12];
            stream.read_exact(&mut answer).await.ok()?;
            Some(answer.ends_with(b"200"))
        };
        if let Ok(Some(true)) = tokio::time::timeout(Duration::from_secs(1), attempt).await {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ready, "/readyz unanswered; output:\n{}", process.output());
    let mut serving = false;
    for _ in 0..20 {
        let attempt = async {
            let channel = Channel::from_shared(format!("http://{}", process.grpc_addr))
                .unwrap()
                .connect()
                .await
                .ok()?;
            let response = HealthClient::new(channel)
                .check(HealthCheckRequest::default())
                .await
                .ok()?;
            Some(response.into_inner().status == 1)
        };
        if let Ok(Some(true)) = tokio::time::timeout(Duration::from_secs(1), attempt).await {
            serving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(serving, "gRPC health unanswered; output:\n{}", process.output());
    assert!(!process.output().contains("Too many open files"));
    drop(idle);
}

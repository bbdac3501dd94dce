//! The sigil binary under SIGTERM and SIGINT: it stops accepting, lets the requests it is serving
//! finish, flushes its spans, and exits 0. Also: JSON logs carry trace ids, and an internal fault
//! answers with the caller's trace id over gRPC and HTTP; text logs are plain and name the call.

use std::time::Duration;

use serde_json::{Value, json};
use sigil::transport::grpc::pb::{
    self, auth_service_client::AuthServiceClient, tenant_service_client::TenantServiceClient,
    user_service_client::UserServiceClient,
};
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::{
    helpers::{Bearer, CLIENT_ID, SECRET, invitee, tenant},
    process::Process,
    traces::{CallerContext, Collector, Encoding},
};

const PASSWORD: &str = "correct horse battery staple";
/// Sign-ins sent at once: many more than hashing threads, within the hash queue's room.
const LOGINS: usize = 60;

/// Creates tenant "acme" and an active user `email` with [`PASSWORD`] over gRPC.
async fn active_user(channel: &Channel, email: &str) {
    let token =
        sigil::transport::grpc::pb::environment_auth_service_client::EnvironmentAuthServiceClient::new(
            channel.clone(),
        )
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: CLIENT_ID.into(),
            secret: SECRET.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    TenantServiceClient::with_interceptor(channel.clone(), Bearer::token(&token))
        .create_tenant(tenant("acme", "Acme"))
        .await
        .unwrap();
    UserServiceClient::with_interceptor(channel.clone(), Bearer::token(&token))
        .create_user(pb::CreateUserRequest {
            password: Some(PASSWORD.into()),
            ..invitee("acme", email)
        })
        .await
        .unwrap();
}

/// The value of one sample of `/metrics`, 0 when absent.
async fn sample(process: &Process, series: &str) -> f64 {
    let text = reqwest::get(process.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn sigterm_lets_the_requests_in_flight_finish_flushes_spans_and_exits_zero() {
    let (collector, addr) = Collector::start().await;
    let endpoint = format!("http://{addr}");
    let mut process = Process::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        // Spans leave only when the batch fills or at exit: the test sees the flush at exit.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ("SIGIL_SHUTDOWN_GRACE", "60s"),
    ])
    .await;
    let logins = slow_sign_ins(&process).await;

    process.signal("TERM");
    // The listeners stop accepting (no drain delay is configured)...
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(process.http_addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the HTTP listener still accepts after SIGTERM");
    // ...while every sign-in already being served completes.
    for login in logins {
        let response = login
            .await
            .unwrap()
            .expect("a sign-in in flight at SIGTERM completes");
        assert!(response.into_inner().authentication.is_some());
    }
    let status = process.wait(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0), "output:\n{}", process.output());

    // Spans were exported on the way out.
    let login_spans = collector
        .names()
        .iter()
        .filter(|n| *n == "identity.v1.AuthService/Login")
        .count();
    assert_eq!(login_spans, LOGINS, "spans received: {:?}", collector.names());
}

#[tokio::test]
async fn requests_still_in_flight_when_the_grace_period_ends_do_not_hold_the_exit() {
    let mut process = Process::start(&[("SIGIL_SHUTDOWN_GRACE", "1ms")]).await;
    let logins = slow_sign_ins(&process).await;
    process.signal("TERM");
    let status = process.wait(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "output:\n{}", process.output());
    let mut cut_off = 0;
    for login in logins {
        if login.await.unwrap().is_err() {
            cut_off += 1;
        }
    }
    assert!(cut_off > 0, "every sign-in finished within a 1 ms grace period");
}

type Login = tokio::task::JoinHandle<Result<tonic::Response<pb::LoginResponse>, tonic::Status>>;

/// Sign-ins that are slow for real: many more at once than there are hashing threads, so most
/// wait in the hash queue. Returns once all are being served and some are still queued.
async fn slow_sign_ins(process: &Process) -> Vec<Login> {
    let channel = process.channel().await;
    active_user(&channel, "ada@example.com").await;
    let logins: Vec<_> = (0..LOGINS)
        .map(|_| {
            let mut auth = AuthServiceClient::new(channel.clone());
            tokio::spawn(async move {
                auth.login(pb::LoginRequest {
                    email: "ada@example.com".into(),
                    password: PASSWORD.into(),
                    ..Default::default()
                })
                .await
            })
        })
        .collect();
    let in_flight =
        "sigil_grpc_server_in_flight{grpc_service=\"identity.v1.AuthService\",grpc_method=\"Login\"}";
    loop {
        let serving = sample(process, in_flight).await;
        let queued = sample(process, "sigil_password_hash_queue_depth").await;
        if serving == LOGINS as f64 && queued > 0.0 {
            return logins;
        }
        assert!(
            logins.iter().any(|l| !l.is_finished()),
            "the sign-ins finished before all were seen in flight"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn sigint_on_an_idle_server_exits_zero() {
    let mut process = Process::start(&[]).await;
    process.signal("INT");
    let status = process.wait(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "output:\n{}", process.output());
}

#[tokio::test]
async fn json_logs_carry_trace_ids_and_internal_errors_answer_with_the_trace_id() {
    let mut process =
        Process::start(&[("SIGIL_LOG_FORMAT", "json"), ("SIGIL_LOG", "info,sigil=debug")]).await;
    let channel = process.channel().await;
    active_user(&channel, "ada@example.com").await;
    // A real fault: the tenants table disappears under the running server.
    let db = sigil::store::connect(&process.database.url, 2, sigil::store::DEFAULT_WAIT)
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&db, "ALTER TABLE tenants RENAME TO tenants_gone")
        .await
        .unwrap();
    db.close().await.unwrap();

    // gRPC: the status names the trace, in its message and a RequestInfo detail.
    let grpc_caller = CallerContext::new(Encoding::W3c);
    let status = AuthServiceClient::new(channel.clone())
        .login(grpc_caller.request(pb::LoginRequest {
            email: "ada@example.com".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Internal, "{status:?}");
    assert_eq!(
        status.get_details_request_info().unwrap().request_id,
        grpc_caller.trace_id
    );
    assert!(status.message().contains(&grpc_caller.trace_id));

    // HTTP: the same over the REST gateway, in the response header and the body.
    let http_caller = CallerContext::new(Encoding::B3Single);
    let mut request = reqwest::Client::new()
        .post(process.url("/identity/resources/auth/v1/user"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    for (name, value) in &http_caller.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["frontegg-trace-id"].to_str().unwrap(),
        http_caller.trace_id
    );
    assert!(response.text().await.unwrap().contains(&http_caller.trace_id));

    process.signal("TERM");
    assert_eq!(process.wait(Duration::from_secs(30)).await.code(), Some(0));

    // Every line is a JSON object; the faults are logged with their trace and span ids.
    let lines: Vec<Value> = process
        .log_lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    for caller in [&grpc_caller, &http_caller] {
        let logged = |message: &str| {
            lines
                .iter()
                .find(|l| l["message"] == message && l["trace_id"] == caller.trace_id.as_str())
                .cloned()
        };
        let fault = logged("internal error").unwrap_or_else(|| {
            panic!(
                "no internal error logged with trace {}: {lines:#?}",
                caller.trace_id
            )
        });
        assert_eq!(fault["level"], "ERROR");
        let span_id = fault["span_id"].as_str().unwrap();
        assert_eq!(span_id.len(), 16);
        assert_ne!(span_id, caller.span_id, "the server logs in its own span");
    }
    assert!(lines.iter().any(|l| l["message"] == "gRPC call finished"
        && l["trace_id"] == grpc_caller.trace_id.as_str()
        && l["code"] == "INTERNAL"));
    assert!(lines.iter().any(|l| l["message"] == "HTTP request finished"
        && l["trace_id"] == http_caller.trace_id.as_str()
        && l["status"] == 500));
}

#[tokio::test]
async fn text_logs_to_a_pipe_are_plain_and_name_each_call_in_its_context() {
    let mut process = Process::start(&[("SIGIL_LOG", "info,sigil=debug")]).await;
    let channel = process.channel().await;
    active_user(&channel, "ada@example.com").await;
    let response = reqwest::Client::new()
        .post(process.url("/identity/resources/auth/v1/user"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    process.signal("TERM");
    assert_eq!(process.wait(Duration::from_secs(30)).await.code(), Some(0));

    let lines = process.log_lines();
    // Standard output is a pipe here, as under a container runtime: no terminal colours.
    assert!(
        lines.iter().all(|l| !l.contains('\u{1b}')),
        "escape codes in {lines:#?}"
    );
    // An event inside a call names the call through its span: the gRPC method, or the HTTP
    // method and path.
    assert!(
        lines.iter().any(|l| l.contains("grpc.server{")
            && l.contains("rpc.service=identity.v1.UserService")
            && l.contains("rpc.method=CreateUser")
            && l.contains("gRPC call finished")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("http.server{")
            && l.contains("http.request.method=POST")
            && l.contains("url.path=/identity/resources/auth/v1/user")
            && l.contains("HTTP request finished")),
        "{lines:#?}"
    );
}

//! Spawns a real sigil on 127.0.0.1:0 over a fresh database, and talks to it over TCP.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sigil::{
    Application, Config,
    app::Overrides,
    domain::{Clock, secret::Secret},
    service::mailer::MemoryMailer,
    transport::grpc::pb::{
        self, activation_service_client::ActivationServiceClient, auth_service_client::AuthServiceClient,
        environment_auth_service_client::EnvironmentAuthServiceClient,
        tenant_service_client::TenantServiceClient, token_service_client::TokenServiceClient,
        user_service_client::UserServiceClient,
    },
};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{
    Code, Request, Status,
    metadata::MetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tonic_types::StatusExt;

/// Client id every test environment is bootstrapped with.
pub const CLIENT_ID: &str = "test-client";
/// Secret every test environment is bootstrapped with.
pub const SECRET: &str = "test-secret-with-enough-entropy";

/// A clock the test moves by hand. Background loops waiting on it wake when it is moved past
/// their deadline.
#[derive(Debug)]
pub struct TestClock(tokio::sync::watch::Sender<DateTime<Utc>>);

impl TestClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(tokio::sync::watch::Sender::new(Utc::now())))
    }

    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap();
        self.0.send_modify(|now| *now += by);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> sigil::domain::clock::Alarm<'_> {
        let mut now = self.0.subscribe();
        Box::pin(async move {
            let _ = now.wait_for(|now| *now >= deadline).await;
        })
    }
}

/// A database of its own for one test: a SQLite file in a temporary directory, or, when
/// `SIGIL_TEST_DATABASE_URL` names a PostgreSQL server, a new database on it.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// Another handle on a database that exists already (a second replica's view of it).
    pub fn existing(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
        }
    }

    pub async fn new() -> Self {
        match std::env::var("SIGIL_TEST_DATABASE_URL") {
            Ok(server) if server.starts_with("postgres") => {
                let name = format!("sigil_test_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&server)
                    .await
                    .expect("connect to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create a test database");
                admin.close().await.ok();
                let mut url = url::Url::parse(&server).expect("SIGIL_TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self {
                    url: url.into(),
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("sigil.db").display());
                Self { url, _dir: Some(dir) }
            }
        }
    }
}

/// A running sigil.
pub struct TestApp {
    pub mailer: Arc<MemoryMailer>,
    pub grpc_addr: std::net::SocketAddr,
    pub http_addr: std::net::SocketAddr,
    /// The separate metrics listener's address, when one is configured.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub channel: Channel,
    pub clock: Arc<TestClock>,
    pub db: DatabaseConnection,
    pub database: TestDatabase,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The configuration tests run with: loopback, port 0, the test credentials, no drain delay.
pub fn test_config(database: &TestDatabase) -> Config {
    let mut config = Config::defaults();
    config.database_url = Some(database.url.clone());
    config.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.http_addr = "127.0.0.1:0".parse().unwrap();
    config.bootstrap_client_id = Some(CLIENT_ID.into());
    config.bootstrap_secret = Some(Secret::new(SECRET));
    config.public_url = "https://auth.sigil.test".parse().unwrap();
    config.app_url = Some("https://app.sigil.test/portal".parse().unwrap());
    config.shutdown_delay = Duration::ZERO;
    // Tests move the clock by hours at once, and the revocation sync that runs on it catches up
    // a moment later: only the tests of the staleness bound set one that such a move crosses.
    config.revocation_max_staleness = Duration::from_secs(10 * 365 * 24 * 3600);
    // Tests sign in often from one address and one account; the tests of the limits set them.
    config.sign_in_limit_per_account = sigil::service::limits::RateLimit::Off;
    config.sign_in_limit_per_address = sigil::service::limits::RateLimit::Off;
    config
}

/// sigil on a fresh database with the test configuration.
pub async fn spawn_app() -> TestApp {
    let database = TestDatabase::new().await;
    let config = test_config(&database);
    spawn_with(database, config, TestClock::new()).await
}

/// sigil on `database` with `config` and `clock`.
pub async fn spawn_with(database: TestDatabase, config: Config, clock: Arc<TestClock>) -> TestApp {
    let (app, mailer) = build(config, clock.clone()).await.expect("sigil builds");
    start(app, mailer, database, clock).await
}

/// Builds sigil with `clock` and a mailer that keeps what it sends.
pub async fn build(
    config: Config,
    clock: Arc<TestClock>,
) -> anyhow::Result<(Application, Arc<MemoryMailer>)> {
    let mailer = Arc::new(MemoryMailer::default());
    let overrides = Overrides {
        clock,
        mailer: mailer.clone(),
        ..Overrides::default()
    };
    Ok((Application::build_with(config, overrides).await?, mailer))
}

/// Runs a built application.
pub async fn start(
    app: Application,
    mailer: Arc<MemoryMailer>,
    database: TestDatabase,
    clock: Arc<TestClock>,
) -> TestApp {
    let grpc_addr = app.grpc_addr();
    let http_addr = app.http_addr();
    let metrics_addr = app.metrics_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{grpc_addr}"))
        .unwrap()
        .connect()
        .await
        .expect("connect to sigil");
    let db = sigil::store::connect(&database.url, 2, sigil::store::DEFAULT_WAIT)
        .await
        .expect("test connection");
    TestApp {
        mailer,
        grpc_addr,
        http_addr,
        metrics_addr,
        channel,
        clock,
        db,
        database,
        stop: Some(stop),
        handle: Some(handle),
    }
}

/// Adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl Bearer {
    pub fn token(token: &str) -> Self {
        Self(Some(format!("Bearer {token}").parse().unwrap()))
    }

    pub fn raw(header: &str) -> Self {
        Self(Some(header.parse().unwrap()))
    }

    pub fn none() -> Self {
        Self(None)
    }
}

pub type Tenants = TenantServiceClient<InterceptedService<Channel, Bearer>>;
pub type Users = UserServiceClient<InterceptedService<Channel, Bearer>>;

impl TestApp {
    pub fn auth_client(&self) -> EnvironmentAuthServiceClient<Channel> {
        EnvironmentAuthServiceClient::new(self.channel.clone())
    }

    /// A fresh environment token for the test credentials.
    pub async fn env_token(&self) -> String {
        self.auth_client()
            .authenticate_vendor(pb::AuthenticateVendorRequest {
                client_id: CLIENT_ID.into(),
                secret: SECRET.into(),
            })
            .await
            .expect("authenticate")
            .into_inner()
            .token
    }

    pub fn activation(&self) -> ActivationServiceClient<Channel> {
        ActivationServiceClient::new(self.channel.clone())
    }

    pub fn activation_with(
        &self,
        bearer: Bearer,
    ) -> ActivationServiceClient<InterceptedService<Channel, Bearer>> {
        ActivationServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    pub fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::new(self.channel.clone())
    }

    pub fn tokens(&self) -> TokenServiceClient<Channel> {
        TokenServiceClient::new(self.channel.clone())
    }

    /// Creates tenant "acme" and an invited user in it; returns the user and a fresh activation.
    pub async fn invited_user(&self, email: &str) -> (pb::User, pb::GenerateActivationTokenResponse) {
        let (mut tenants, mut users) = self.clients().await;
        match tenants.create_tenant(tenant("acme", "Acme")).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => panic!("creating the tenant failed: {status:?}"),
        }
        let user = users
            .create_user(invitee("acme", email))
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap();
        let activation = users
            .generate_activation_token(pb::GenerateActivationTokenRequest {
                user_id: user.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        (user, activation)
    }

    /// Creates tenant "acme" (if needed) and an activated user with `password`.
    pub async fn active_user(&self, email: &str, password: &str) -> pb::User {
        let (mut tenants, mut users) = self.clients().await;
        match tenants.create_tenant(tenant("acme", "Acme")).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => panic!("creating the tenant failed: {status:?}"),
        }
        users
            .create_user(pb::CreateUserRequest {
                password: Some(password.into()),
                ..invitee("acme", email)
            })
            .await
            .unwrap()
            .into_inner()
            .user
            .unwrap()
    }

    /// Signs in; panics on failure.
    pub async fn login(&self, email: &str, password: &str) -> pb::AuthenticationResponse {
        self.auth()
            .login(pb::LoginRequest {
                email: email.into(),
                password: password.into(),
                ..Default::default()
            })
            .await
            .expect("login")
            .into_inner()
            .authentication
            .unwrap()
    }

    /// Validates an access token.
    pub async fn validate(&self, access_token: &str) -> Result<pb::ValidateTokenResponse, Status> {
        self.tokens()
            .validate_token(pb::ValidateTokenRequest {
                access_token: access_token.into(),
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    pub fn tenants_with(&self, bearer: Bearer) -> Tenants {
        TenantServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    pub fn users_with(&self, bearer: Bearer) -> Users {
        UserServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    /// Tenant and user clients authenticated as the test environment.
    pub async fn clients(&self) -> (Tenants, Users) {
        let token = self.env_token().await;
        (
            self.tenants_with(Bearer::token(&token)),
            self.users_with(Bearer::token(&token)),
        )
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) -> TestDatabase {
        self.shutdown().await;
        self.db.close_by_ref().await.ok();
        TestDatabase {
            url: self.database.url.clone(),
            _dir: self.database._dir.take(),
        }
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task").expect("server ran cleanly");
        }
    }

    /// Sends the stop signal without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Runs one SQL statement directly on the database.
    pub async fn db_execute(&self, sql: &str) {
        self.db.execute_unprepared(sql).await.unwrap();
    }

    /// Counts the rows of `table` matching the SQL condition `condition`.
    pub async fn count(&self, table: &str, condition: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Asserts that `status` has `code` and the `ErrorInfo` reason `reason`.
#[track_caller]
pub fn assert_error(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo detail");
    assert_eq!(info.reason, reason, "unexpected reason: {status:?}");
    assert_eq!(info.domain, "sigil");
}

/// Asserts INVALID_ARGUMENT naming `field` in a BadRequest violation.
#[track_caller]
pub fn assert_invalid(status: &Status, field: &str) {
    assert_invalid_because(status, field, "INVALID_ARGUMENT");
}

/// Asserts INVALID_ARGUMENT with `reason`, naming `field` in a BadRequest violation.
#[track_caller]
pub fn assert_invalid_because(status: &Status, field: &str, reason: &str) {
    assert_error(status, Code::InvalidArgument, reason);
    let bad_request = status.get_details_bad_request().expect("BadRequest detail");
    let fields: Vec<_> = bad_request
        .field_violations
        .iter()
        .map(|v| v.field.as_str())
        .collect();
    assert!(
        fields.contains(&field),
        "expected a violation of {field}, got {fields:?}"
    );
}

/// A tenant request with just a name and an id.
pub fn tenant(tenant_id: &str, name: &str) -> pb::CreateTenantRequest {
    pb::CreateTenantRequest {
        tenant_id: tenant_id.into(),
        name: name.into(),
        ..Default::default()
    }
}

/// An invited user (no password) in `tenant_id`.
pub fn invitee(tenant_id: &str, email: &str) -> pb::CreateUserRequest {
    pb::CreateUserRequest {
        tenant_id: tenant_id.into(),
        email: email.into(),
        ..Default::default()
    }
}

/// The claims of a token, unverified (the tests only read them).
pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

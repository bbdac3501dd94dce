//! Start-up: binds the listeners, opens and migrates the database, bootstraps credentials and
//! keys, wires the gRPC services with health and reflection, and serves until told to stop.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::watch};
use tokio_stream::StreamExt;
use tonic::transport::Server;
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    config::Config,
    domain::{Clock, SystemClock, admin::AdminToken},
    service::{
        Deps, KeyRing, Mailer, PasswordHasher, Revocations, Services, cleanup::Cleanup,
        environments::GeneratedCredentials, keys::MasterKeys, mailer::NoMailer,
    },
    store,
    telemetry::metrics::{Metrics, PoolUsage},
    transport::grpc::{
        ActivationApi, AuthApi, ConfigurationApi, EnvironmentAdminApi, EnvironmentAuthApi, GroupApi, MeApi,
        PermissionApi, RoleApi, TeamApi, TenantApi, TokenApi, UserApi,
        auth::Authorize,
        observe::{KnownMethods, Observe},
        pb::{
            self, activation_service_server::ActivationServiceServer, auth_service_server::AuthServiceServer,
            configuration_service_server::ConfigurationServiceServer,
            environment_admin_service_server::EnvironmentAdminServiceServer,
            environment_auth_service_server::EnvironmentAuthServiceServer,
            group_service_server::GroupServiceServer, me_service_server::MeServiceServer,
            permission_service_server::PermissionServiceServer, role_service_server::RoleServiceServer,
            team_service_server::TeamServiceServer, tenant_service_server::TenantServiceServer,
            token_service_server::TokenServiceServer, user_service_server::UserServiceServer,
        },
    },
    transport::policy::Authorizer,
    transport::{
        connections::{self, Limits, METRICS_CONNECTIONS, PROBE_CONNECTIONS, grpc::TrackLayer},
        rest::{self, GatewaySettings},
    },
};

/// How often the database is pinged to keep the health status true while it serves.
const DB_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// How often a write is tried while the database could not write, to serve again on the first
/// that commits.
const WRITE_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How long a ping or a trial write may take before it counts as failed.
const DB_CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// How often signing keys are reloaded (picking up keys made elsewhere) and, with automatic
/// rotation, checked for rotation.
pub const KEY_CHECK_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// How long a stopping process waits for its bulk role worker to finish its batch in flight.
const BULK_ROLES_STOP: Duration = Duration::from_secs(5);

/// The gRPC services whose health is reported, besides the server as a whole ("").
const SERVICES: &[&str] = &[
    "identity.v1.ActivationService",
    "identity.v1.AuthService",
    "identity.v1.EnvironmentAdminService",
    "identity.v1.EnvironmentAuthService",
    "identity.v1.TenantService",
    "identity.v1.TokenService",
    "identity.v1.UserService",
];

/// A health service name that reports SERVING for as long as the process serves, whatever the
/// database does: for liveness probes, which should not restart every replica during an outage.
pub const LIVENESS: &str = "liveness";

/// Dependencies a caller may replace: tests move time by hand and read the mail.
pub struct Overrides {
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Where messages to users go.
    pub mailer: Arc<dyn Mailer>,
    /// Whether this process carries out queued bulk role tasks. Tests hold it off to look at
    /// a task before any worker has touched it; another process (or this one restarted) on the
    /// same database carries it out then.
    pub bulk_roles_worker: bool,
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            mailer: Arc::new(NoMailer),
            bulk_roles_worker: true,
        }
    }
}

/// Whether sigil can serve, as reported by gRPC health and the HTTP readiness probe.
#[derive(Clone)]
struct Readiness {
    reporter: HealthReporter,
    ready: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
}

impl Readiness {
    /// Reports NOT_SERVING for good.
    async fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.set(false).await;
    }

    async fn set(&self, serving: bool) {
        let serving = serving && !self.stopping.load(Ordering::SeqCst);
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        self.ready.store(serving, Ordering::SeqCst);
        self.reporter.set_service_status("", status).await;
        for service in SERVICES {
            self.reporter.set_service_status(*service, status).await;
        }
    }
}

/// A built, not yet running, sigil.
pub struct Application {
    config: Config,
    grpc_listener: TcpListener,
    http_listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    services: Services,
    keys: Arc<KeyRing>,
    revocations: Arc<Revocations>,
    generated: Option<GeneratedCredentials>,
    metrics: Arc<Metrics>,
    limits: Limits,
    bulk_roles_worker: bool,
}

impl Application {
    /// Builds sigil with the system clock and the configured mailer.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Overrides::default()).await
    }

    /// Builds sigil with replaced dependencies.
    pub async fn build_with(config: Config, overrides: Overrides) -> anyhow::Result<Self> {
        config.validate()?;
        let Overrides {
            clock,
            mailer,
            bulk_roles_worker,
        } = overrides;
        let limits = connection_limits(&config);
        let masters = MasterKeys::parse(config.master_key.as_ref(), config.master_key_previous.as_ref())?;
        let grpc_listener = TcpListener::bind(config.grpc_addr)
            .await
            .with_context(|| format!("binding the gRPC address {}", config.grpc_addr))?;
        let http_listener = TcpListener::bind(config.http_addr)
            .await
            .with_context(|| format!("binding the HTTP address {}", config.http_addr))?;
        let metrics_listener = match config.metrics_addr {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("binding the metrics address {addr}"))?,
            ),
            None => None,
        };
        let db = store::connect(
            config.database_url(),
            config.database_max_connections(),
            config.database_acquire_timeout,
        )
        .await
        .context("connecting to the database")?;
        store::migrate(&db).await.context("migrating the database")?;
        let keys = Arc::new(
            KeyRing::load(db.clone(), clock.clone(), config.key_settings(), masters)
                .await
                .context("loading signing keys")?,
        );
        let metrics = Metrics::shared();
        let pool = db.clone();
        metrics.watch_pool(move || {
            let (in_use, idle) = store::pool_usage(&pool);
            PoolUsage { in_use, idle }
        });
        let revocations = Arc::new(Revocations::new(
            db.clone(),
            clock.clone(),
            metrics.clone(),
            config.revocation_max_staleness,
        ));
        revocations.sync().await.context("reading session revocations")?;
        // Weak: the metrics must not keep the revocations (which count into them) alive.
        let watched = Arc::downgrade(&revocations);
        metrics.watch_revocation_sync(move || {
            let age = watched.upgrade()?.sync_age()?;
            Some(age.to_std().unwrap_or_default())
        });
        let deps = Deps {
            db: db.clone(),
            clock: clock.clone(),
            keys: keys.clone(),
            hasher: PasswordHasher::for_this_machine(metrics.clone()),
            revocations: revocations.clone(),
            mailer,
            settings: Arc::new(config.service_settings()),
            metrics: metrics.clone(),
        };
        let services = Services::new(deps);
        let generated = services
            .environments
            .bootstrap(config.bootstrap_credentials()?)
            .await
            .context("bootstrapping the environment")?;
        Ok(Self {
            config,
            grpc_listener,
            http_listener,
            metrics_listener,
            db,
            clock,
            services,
            keys,
            revocations,
            generated,
            metrics,
            limits,
            bulk_roles_worker,
        })
    }

    /// The address the gRPC server is bound to (useful with port 0).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_listener.local_addr().unwrap_or(self.config.grpc_addr)
    }

    /// The address the HTTP listener is bound to.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_listener.local_addr().unwrap_or(self.config.http_addr)
    }

    /// The address of the separate metrics listener, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// What bounds the connections of each port.
    pub fn connection_limits(&self) -> Limits {
        self.limits
    }

    /// Credentials generated on this first start, to show once.
    pub fn generated_credentials(&self) -> Option<&GeneratedCredentials> {
        self.generated.as_ref()
    }

    /// Serves until `shutdown` completes; then reports NOT_SERVING, keeps serving for the
    /// configured delay so traffic drains away, stops accepting, and returns once in-flight
    /// requests finish or the grace period ends, whichever is first.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grpc_addr = self.grpc_addr();
        let http_addr = self.http_addr();
        let metrics_addr = self.metrics_addr();
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let readiness = Readiness {
            reporter,
            ready: Arc::new(AtomicBool::new(false)),
            stopping: Arc::new(AtomicBool::new(false)),
        };
        readiness.set(false).await;
        readiness
            .reporter
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;

        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        let environments = self.services.environments.clone();
        let authorizer = Authorizer::new(
            environments.clone(),
            self.services.tokens.clone(),
            AdminToken::new(self.config.admin_token.as_ref()),
        );

        let (stop_tx, stop_rx) = watch::channel(false);
        let known = KnownMethods::from_descriptor_sets(&[
            pb::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ])?;
        let limits = self.limits;
        let grpc_router = Server::builder()
            .http2_keepalive_interval(Some(limits.http2_keepalive_interval))
            .http2_keepalive_timeout(Some(limits.http2_keepalive_timeout))
            .max_concurrent_streams(limits.max_concurrent_streams)
            // Outermost, so that the peer's address is where the layers below look for it.
            .layer(TrackLayer)
            .layer(Observe::new(self.metrics.clone(), known))
            // Every RPC's declared policy, before any service sees the request.
            .layer(Authorize::new(authorizer))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(EnvironmentAuthServiceServer::new(EnvironmentAuthApi::new(
                environments.clone(),
            )))
            .add_service(EnvironmentAdminServiceServer::new(EnvironmentAdminApi::new(
                environments,
            )))
            .add_service(TenantServiceServer::new(TenantApi::new(
                self.services.tenants.clone(),
            )))
            .add_service(UserServiceServer::new(UserApi::new(
                self.services.users.clone(),
                self.services.bulk_roles.clone(),
            )))
            .add_service(MeServiceServer::new(MeApi::new(
                self.services.users.clone(),
                self.services.tenants.clone(),
                self.services.roles.clone(),
            )))
            .add_service(RoleServiceServer::new(RoleApi::new(self.services.roles.clone())))
            .add_service(TeamServiceServer::new(TeamApi::new(self.services.team.clone())))
            .add_service(GroupServiceServer::new(GroupApi::new(
                self.services.groups.clone(),
            )))
            .add_service(PermissionServiceServer::new(PermissionApi::new(
                self.services.permissions.clone(),
            )))
            .add_service(ConfigurationServiceServer::new(ConfigurationApi::new(
                self.services.configurations.clone(),
            )))
            .add_service(AuthServiceServer::new(AuthApi::new(
                self.services.sign_in.clone(),
            )))
            .add_service(ActivationServiceServer::new(ActivationApi::new(
                self.services.activation.clone(),
            )))
            .add_service(TokenServiceServer::new(TokenApi::new(
                self.services.tokens.clone(),
            )));
        let grpc =
            connections::grpc::serve(self.grpc_listener, limits, stop_rx.clone(), move |io, signal| {
                // One connection, then none until the signal: see `connections::grpc`.
                let incoming = tokio_stream::once(Ok::<_, std::io::Error>(io)).chain(tokio_stream::pending());
                grpc_router.clone().serve_with_incoming_shutdown(incoming, signal)
            });

        let gateway = rest::service(
            self.services.clone(),
            GatewaySettings {
                cookie_secure: self.config.cookie_secure,
                body_limit: self.config.http_body_limit,
                cors_origins: self.config.cors_origins()?,
                public_origin: self.config.public_origin(),
                metrics: self.metrics.clone(),
                serve_metrics: self.metrics_listener.is_none(),
            },
            readiness.ready.clone(),
        );
        let gateway = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            SocketAddr,
        >(gateway);
        let http = connections::http::serve(
            self.http_listener,
            limits,
            PROBE_CONNECTIONS,
            stop_rx.clone(),
            gateway,
        );
        let metrics_server = self.metrics_listener.map(|listener| {
            let limits = Limits {
                max_connections: METRICS_CONNECTIONS,
                ..limits
            };
            let service = rest::metrics_service(self.metrics.clone()).into_make_service();
            connections::http::serve(listener, limits, 0, stop_rx.clone(), service)
        });

        // Serving starts only now that the database is migrated and the environment bootstrapped.
        readiness.set(store::ping(&self.db).await).await;
        let watchdog = tokio::spawn(watch_database(
            self.db.clone(),
            self.clock.clone(),
            readiness.clone(),
            stop_rx.clone(),
        ));
        let rotation = tokio::spawn(check_keys(
            self.db.clone(),
            self.clock.clone(),
            self.keys.clone(),
            self.metrics.clone(),
            stop_rx.clone(),
        ));
        let revocations = tokio::spawn(
            self.revocations
                .clone()
                .follow(self.config.revocation_sync, stop_rx.clone()),
        );
        let cleanup = tokio::spawn(
            Cleanup::new(self.db.clone(), self.clock.clone())
                .follow(self.config.cleanup_interval, stop_rx.clone()),
        );
        let bulk_roles = self
            .bulk_roles_worker
            .then(|| tokio::spawn(self.services.bulk_roles.worker().follow(stop_rx.clone())));
        let delay = self.config.shutdown_delay;
        let grace = self.config.shutdown_grace;
        let stopper = tokio::spawn(async move {
            shutdown.await;
            tracing::info!(?delay, "stopping: reporting NOT_SERVING, then draining");
            readiness.stop().await;
            tokio::time::sleep(delay).await;
            tracing::info!(?grace, "no longer accepting; waiting for requests in flight");
            let _ = stop_tx.send(true);
        });
        let grace_over = {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
                tokio::time::sleep(grace).await;
            }
        };

        tracing::info!(
            %grpc_addr,
            %http_addr,
            ?metrics_addr,
            max_connections = limits.max_connections,
            "sigil is serving"
        );
        let metrics_served = async {
            if let Some(server) = metrics_server {
                server.await;
            }
        };
        let servers = async { tokio::join!(grpc, http, metrics_served) };
        tokio::select! {
            _ = servers => {}
            () = grace_over => {
                tracing::warn!(?grace, "requests still in flight at the end of the grace period; stopping");
            }
        }
        stopper.abort();
        watchdog.abort();
        rotation.abort();
        revocations.abort();
        cleanup.abort();
        if let Some(worker) = bulk_roles {
            // It ends after its batch in flight, letting go of its task for the next start or
            // another replica; one stuck on the database is cut short, and its lease runs out.
            let abort = worker.abort_handle();
            if tokio::time::timeout(BULK_ROLES_STOP, worker).await.is_err() {
                abort.abort();
            }
        }
        self.db.close_by_ref().await.ok();
        Ok(())
    }
}

/// Raises the open file limit as far as allowed, and bounds each port's connections within it.
fn connection_limits(config: &Config) -> Limits {
    let open_files = match connections::raise_open_file_limit() {
        Ok(open_files) => open_files,
        Err(error) => {
            tracing::warn!(%error, "cannot read or raise the open file limit; assuming 1024");
            1024
        }
    };
    let limits = config.connection_limits(open_files);
    let needed = 2 * (limits.max_connections + PROBE_CONNECTIONS) as u64 + connections::OTHER_FILES;
    if needed > open_files {
        tracing::warn!(
            open_files,
            max_connections = limits.max_connections,
            "SIGIL_MAX_CONNECTIONS leaves too few of the open files for the rest: \
             at the cap, sigil may fail to open the database or answer probes"
        );
    }
    limits
}

/// Keeps the health status in step with the database. NOT_SERVING as soon as a request meets a
/// storage fault (the database could not write, or could not be reached) or a ping every
/// [`DB_CHECK_INTERVAL`] goes unanswered; then a write is tried every
/// [`WRITE_CHECK_INTERVAL`], and the first that commits brings SERVING back.
async fn watch_database(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    readiness: Readiness,
    stop: watch::Receiver<bool>,
) {
    let mut faults = store::storage_faults();
    faults.mark_unchanged();
    let mut serving = true;
    loop {
        let interval = if serving {
            DB_CHECK_INTERVAL
        } else {
            WRITE_CHECK_INTERVAL
        };
        let fault = tokio::select! {
            () = tokio::time::sleep(interval) => false,
            changed = faults.changed() => changed.is_ok(),
        };
        if *stop.borrow() {
            return;
        }
        let up = if fault {
            false
        } else if serving {
            tokio::time::timeout(DB_CHECK_TIMEOUT, store::ping(&db))
                .await
                .unwrap_or(false)
        } else {
            tokio::time::timeout(DB_CHECK_TIMEOUT, store::check_writes(&db, clock.now()))
                .await
                .unwrap_or(false)
        };
        if up != serving {
            if up {
                tracing::info!("the database writes again; reporting SERVING");
            } else if fault {
                tracing::error!("the database could not do a request's work; reporting NOT_SERVING");
            } else {
                tracing::error!("the database is unreachable; reporting NOT_SERVING");
            }
            readiness.set(up).await;
            serving = up;
        }
    }
}

/// Every [`KEY_CHECK_INTERVAL`] of the clock, reloads the signing keys (picking up keys made by
/// other replicas or by `sigil keys rotate`) and, with automatic rotation, rotates keys that are
/// due.
async fn check_keys(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyRing>,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) {
    loop {
        clock.sleep(KEY_CHECK_INTERVAL).await;
        if *stop.borrow() {
            return;
        }
        let result = async {
            keys.reload().await?;
            for environment in store::environments::list(&db).await? {
                keys.ensure_current(&environment).await?;
            }
            Ok::<_, crate::domain::Error>(())
        }
        .await;
        metrics.key_check(result.is_ok());
        if let Err(error) = result {
            tracing::warn!(error = %error, "checking signing keys failed");
        }
    }
}

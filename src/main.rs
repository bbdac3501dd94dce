//! The `sigil` binary: parse the configuration, start telemetry, then serve, migrate, or manage
//! signing keys or environments.

use std::process::ExitCode;

use clap::Parser;
use sigil::{
    Application, commands,
    config::{Cli, Command, KeysCommand},
    store, telemetry,
};

// jemalloc, with its background thread returning freed pages to the system (configured in
// .cargo/config.toml): password hashing takes 19 MiB per check, which a busy server reuses and an
// idle one gives back.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sigil: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let telemetry = match telemetry::init(&cli.config) {
            Ok(telemetry) => telemetry,
            Err(error) => {
                eprintln!("sigil: cannot start telemetry: {error:#}");
                return ExitCode::FAILURE;
            }
        };
        let result = match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(cli.config).await,
            Command::Migrate => migrate(cli.config).await,
            Command::Keys(KeysCommand::Rotate { environment }) => {
                rotate_keys(cli.config, environment.as_deref()).await
            }
            Command::Keys(KeysCommand::Reseal) => commands::reseal_keys(&cli.config)
                .await
                .map(|resealed| println!("{resealed}")),
            Command::Environments(args) => {
                async {
                    let output = commands::environments(&cli.config, &args.command).await?;
                    println!("{}", output.render(args.json)?);
                    Ok::<_, anyhow::Error>(())
                }
                .await
            }
        };
        let code = match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = format!("{error:#}"), "sigil failed");
                eprintln!("sigil: {error:#}");
                ExitCode::FAILURE
            }
        };
        // Flushing blocks its thread; keep it off the async workers.
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
        code
    })
}

async fn serve(config: sigil::Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    if let Some(generated) = app.generated_credentials() {
        // Shown once, on the first start without configured credentials; only a hash is stored.
        eprintln!(
            "\n================ sigil: new environment credentials ================\n\
             client id: {}\n\
             secret:    {}\n\
             The secret is shown only now. To keep credentials under your control, set\n\
             SIGIL_BOOTSTRAP_CLIENT_ID and SIGIL_BOOTSTRAP_SECRET instead.\n\
             ====================================================================\n",
            generated.client_id,
            generated.secret.expose()
        );
    }
    app.run_until_stopped(shutdown_signal()).await
}

async fn migrate(config: sigil::Config) -> anyhow::Result<()> {
    let db = store::connect(config.database_url(), 2, config.database_acquire_timeout).await?;
    store::migrate(&db).await?;
    tracing::info!("migrations are up to date");
    Ok(())
}

async fn rotate_keys(config: sigil::Config, environment: Option<&str>) -> anyhow::Result<()> {
    let rotated = commands::rotate_keys(&config, environment).await?;
    if rotated.is_empty() {
        println!("no environment yet: no key to rotate");
        return Ok(());
    }
    for rotated in rotated {
        println!("{rotated}");
    }
    println!(
        "Running replicas sign with the new keys within 15 minutes, or at once when restarted. \
         Backends that keep the `publicKey` of configurations/v1 (Frontegg's SDKs) refuse new \
         tokens until they restart; see docs/operations.md."
    );
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (what Kubernetes sends).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

//! Signing-key management from the command line: `sigil keys rotate`, `sigil keys reseal`, and the
//! warning at start when no master key seals the keys. The commands run as the built binary on
//! the database of a server the test runs.

use std::{process::Output, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use sigil::{app::KEY_CHECK_INTERVAL, domain::secret::Secret, service::keys::MasterKey, transport::grpc::pb};

use crate::{
    helpers::{TestApp, TestClock, TestDatabase, build, spawn_app, spawn_with, test_config},
    process::{Process, run},
};

const PASSWORD: &str = "correct horse battery";

fn kid(token: &str) -> String {
    jwt_simple::token::Token::decode_metadata(token)
        .unwrap()
        .key_id()
        .unwrap()
        .to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `sigil keys <args>` on `database`, with `env` besides.
async fn keys(database: &TestDatabase, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut argv = vec!["keys"];
    argv.extend_from_slice(args);
    let mut environment = vec![
        ("SIGIL_DATABASE_URL", database.url.as_str()),
        ("SIGIL_LOG", "warn"),
    ];
    environment.extend_from_slice(env);
    run(&argv, &environment).await
}

#[track_caller]
fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

async fn jwks(app: &TestApp) -> Vec<String> {
    app.tokens()
        .get_jwks(pb::GetJwksRequest {})
        .await
        .unwrap()
        .into_inner()
        .keys
        .into_iter()
        .map(|key| key.kid)
        .collect()
}

#[tokio::test]
async fn keys_rotate_makes_a_new_signing_key_while_the_old_one_keeps_verifying() {
    let app = spawn_app().await;
    app.active_user("ann@example.com", PASSWORD).await;
    let before = app.login("ann@example.com", PASSWORD).await;
    let environment_id = app.validate(&before.access_token).await.unwrap().aud;

    let output = keys(&app.database, &["rotate"], &[]).await;
    assert_succeeded(&output);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!("environment {environment_id}: new signing key")),
        "{stdout}"
    );
    assert_eq!(app.count("signing_keys", "1=1").await, 2);
    assert_eq!(app.count("signing_keys", "retired_at IS NULL").await, 1);

    // The running server picks the key up at its next periodic check, which runs on the clock.
    app.clock.advance(KEY_CHECK_INTERVAL);
    let mut after = app.login("ann@example.com", PASSWORD).await;
    for _ in 0..150 {
        if kid(&after.access_token) != kid(&before.access_token) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        after = app.login("ann@example.com", PASSWORD).await;
    }
    assert_ne!(
        kid(&after.access_token),
        kid(&before.access_token),
        "the new key signs"
    );
    assert!(stdout.contains(&kid(&after.access_token)), "{stdout}");
    assert_eq!(
        jwks(&app).await,
        [kid(&after.access_token), kid(&before.access_token)],
        "both keys are published, the signing key first"
    );
    app.validate(&before.access_token)
        .await
        .expect("tokens of the replaced key stay valid");
    app.validate(&after.access_token).await.unwrap();

    // One environment, by id; an unknown one is refused and nothing changes.
    let output = keys(
        &app.database,
        &["rotate", "--environment", "no-such-environment"],
        &[],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("no environment has the id"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(app.count("signing_keys", "1=1").await, 2);
    let output = keys(&app.database, &["rotate", "--environment", &environment_id], &[]).await;
    assert_succeeded(&output);
    assert_eq!(app.count("signing_keys", "1=1").await, 3);
    assert_eq!(app.count("signing_keys", "retired_at IS NULL").await, 1);
}

fn master_key(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

fn master_key_id(encoded: &str) -> String {
    MasterKey::parse(&Secret::new(encoded)).unwrap().id().to_owned()
}

/// Each key's sealer and sealed private key, in kid order.
async fn sealed(url: &str) -> Vec<(Option<String>, String)> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sigil::store::connect(url, 2, sigil::store::DEFAULT_WAIT)
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT sealed_by, private_key FROM signing_keys ORDER BY kid",
        ))
        .await
        .unwrap();
    let sealed = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "sealed_by").unwrap(),
                row.try_get("", "private_key").unwrap(),
            )
        })
        .collect();
    db.close().await.ok();
    sealed
}

#[tokio::test]
async fn keys_reseal_moves_every_key_to_the_current_master_key_and_refuses_unknown_sealers() {
    let (first, second, stranger) = (master_key(1), master_key(2), master_key(3));
    let database = TestDatabase::new().await;
    let config = test_config(&database);
    let clock = TestClock::new();

    // Keys stored unsealed are sealed.
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let token = app.login("ann@example.com", PASSWORD).await.access_token;
    let database = app.stop().await;
    let output = keys(&database, &["reseal"], &[("SIGIL_MASTER_KEY", &first)]).await;
    assert_succeeded(&output);
    assert!(text(&output.stdout).contains("1 sealed that were stored unsealed"));
    let by_first = sealed(&database.url).await;
    assert_eq!(by_first[0].0.as_deref(), Some(master_key_id(&first).as_str()));

    // Without the previous master key, a key sealed by another one is refused, and nothing changes.
    let output = keys(&database, &["reseal"], &[("SIGIL_MASTER_KEY", &second)]).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&master_key_id(&first)),
        "names the sealer: {stderr}"
    );
    assert!(stderr.contains("SIGIL_MASTER_KEY_PREVIOUS"), "{stderr}");
    assert_eq!(sealed(&database.url).await, by_first);
    let output = keys(&database, &["reseal"], &[]).await;
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("SIGIL_MASTER_KEY must be set"));

    // With it, the key moves to the new master key; again, nothing more happens.
    let env = [
        ("SIGIL_MASTER_KEY", second.as_str()),
        ("SIGIL_MASTER_KEY_PREVIOUS", first.as_str()),
    ];
    let output = keys(&database, &["reseal"], &env).await;
    assert_succeeded(&output);
    assert!(
        text(&output.stdout).contains("1 resealed"),
        "{}",
        text(&output.stdout)
    );
    let by_second = sealed(&database.url).await;
    assert_eq!(by_second[0].0.as_deref(), Some(master_key_id(&second).as_str()));
    assert_ne!(by_second[0].1, by_first[0].1);
    let output = keys(&database, &["reseal"], &env).await;
    assert_succeeded(&output);
    assert!(text(&output.stdout).contains("0 resealed, 0 sealed that were stored unsealed, 1 unchanged"));
    assert_eq!(sealed(&database.url).await, by_second, "idempotent");

    // A replica with the new master key alone serves with the same key.
    let mut with_second = config.clone();
    with_second.master_key = Some(Secret::new(second.clone()));
    let app = spawn_with(database, with_second, clock.clone()).await;
    app.validate(&token).await.expect("the same signing key");
    let again = app.login("ann@example.com", PASSWORD).await.access_token;
    assert_eq!(kid(&again), kid(&token));
    let database = app.stop().await;

    // The old master key no longer opens it, and sigil says what to do.
    let mut with_first = config.clone();
    with_first.master_key = Some(Secret::new(first.clone()));
    let error = build(with_first, clock.clone())
        .await
        .err()
        .expect("the old master key no longer opens the keys");
    assert!(format!("{error:#}").contains("sigil keys reseal"), "{error:#}");

    // Neither key known: refused, nothing changes.
    let output = keys(
        &database,
        &["reseal"],
        &[
            ("SIGIL_MASTER_KEY", stranger.as_str()),
            ("SIGIL_MASTER_KEY_PREVIOUS", first.as_str()),
        ],
    )
    .await;
    assert!(!output.status.success());
    assert_eq!(sealed(&database.url).await, by_second);
}

#[tokio::test]
async fn while_the_master_key_changes_a_replica_opens_keys_sealed_by_the_previous_one() {
    let (old, new) = (master_key(4), master_key(5));
    let database = TestDatabase::new().await;
    let mut config = test_config(&database);
    config.master_key = Some(Secret::new(old.clone()));
    let clock = TestClock::new();
    let app = spawn_with(database, config.clone(), clock.clone()).await;
    app.active_user("ann@example.com", PASSWORD).await;
    let token = app.login("ann@example.com", PASSWORD).await.access_token;
    let database = app.stop().await;

    config.master_key = Some(Secret::new(new.clone()));
    config.master_key_previous = Some(Secret::new(old.clone()));
    let app = spawn_with(database, config, clock).await;
    app.validate(&token).await.unwrap();
    assert_eq!(
        kid(&app.login("ann@example.com", PASSWORD).await.access_token),
        kid(&token)
    );
}

/// Waits up to five seconds for a log line of `process` containing `text`.
async fn logged(process: &Process, text: &str) -> bool {
    for _ in 0..100 {
        if process.log_lines().iter().any(|line| line.contains(text)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_start_without_a_master_key_warns_that_the_keys_are_unsealed() {
    const WARNING: &str = "SIGIL_MASTER_KEY is not set";
    let process = Process::start(&[]).await;
    assert!(logged(&process, WARNING).await, "{}", process.output());
    let warning = process
        .log_lines()
        .into_iter()
        .find(|line| line.contains(WARNING))
        .unwrap();
    assert!(warning.contains("WARN"), "{warning}");

    let key = master_key(6);
    let sealed = Process::start(&[("SIGIL_MASTER_KEY", key.as_str())]).await;
    // Serving is logged after the keys are loaded: by then a warning would have been written.
    assert!(logged(&sealed, "sigil is serving").await, "{}", sealed.output());
    assert!(
        !sealed.log_lines().iter().any(|line| line.contains(WARNING)),
        "{}",
        sealed.output()
    );
}

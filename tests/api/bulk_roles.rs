//! The bulk update of a user's roles across its tenants, over gRPC and REST: small updates done
//! in the request, larger ones queued as a task that a background worker carries out (and that
//! a restart picks up), bad input refused with nothing written, and tasks kept to their
//! environment.

use std::{sync::Arc, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;

use sigil::{
    Application,
    app::Overrides,
    service::mailer::MemoryMailer,
    transport::grpc::pb::{self, role_service_client::RoleServiceClient},
};

use crate::{
    environment_admin::{ADMIN_TOKEN, create_environment},
    helpers::{
        Bearer, TestApp, TestClock, TestDatabase, assert_error, assert_invalid, claims, invitee, start,
        tenant, test_config,
    },
    http::{Api, error, ok},
};

const PASSWORD: &str = "correct horse battery";

/// sigil on `database`, updating at most `sync_limit` tenants within a request, with or without
/// its bulk role worker.
async fn spawn(database: TestDatabase, sync_limit: usize, worker: bool) -> TestApp {
    let mut config = test_config(&database);
    config.bulk_roles_sync_limit = sync_limit;
    config.admin_token = Some(sigil::domain::secret::Secret::new(ADMIN_TOKEN));
    let clock = TestClock::new();
    let mailer = Arc::new(MemoryMailer::default());
    let overrides = Overrides {
        clock: clock.clone(),
        mailer: mailer.clone(),
        bulk_roles_worker: worker,
    };
    let app = Application::build_with(config, overrides)
        .await
        .expect("sigil builds");
    start(app, mailer, database, clock).await
}

async fn fresh(sync_limit: usize, worker: bool) -> TestApp {
    spawn(TestDatabase::new().await, sync_limit, worker).await
}

fn roles_client(
    app: &TestApp,
    token: &str,
) -> RoleServiceClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>> {
    RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(token))
}

/// Creates the tenants `tenant_ids` and a user with a password in each; its id.
async fn member_of(app: &TestApp, tenant_ids: &[&str], email: &str) -> String {
    let (mut tenants, mut users) = app.clients().await;
    for id in tenant_ids {
        tenants.create_tenant(tenant(id, id)).await.unwrap();
    }
    let user = users
        .create_user(pb::CreateUserRequest {
            password: Some(PASSWORD.into()),
            ..invitee(tenant_ids[0], email)
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    for id in &tenant_ids[1..] {
        users
            .add_user_to_tenant(pb::AddUserToTenantRequest {
                user_id: user.id.clone(),
                tenant_id: (*id).into(),
            })
            .await
            .unwrap();
    }
    user.id
}

/// Creates a role `key` of the environment, or of tenant `tenant_id` when not empty; its id.
async fn role(app: &TestApp, tenant_id: &str, key: &str) -> String {
    roles_client(app, &app.env_token().await)
        .create_roles(pb::CreateRolesRequest {
            tenant_id: tenant_id.into(),
            roles: vec![pb::NewRole {
                key: key.into(),
                name: key.into(),
                level: 5,
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .roles
        .remove(0)
        .id
}

/// The keys of the roles user `user_id` holds in tenant `tenant_id`, sorted.
async fn keys_in(app: &TestApp, user_id: &str, tenant_id: &str) -> Vec<String> {
    let mut keys: Vec<String> = roles_client(app, &app.env_token().await)
        .list_users_roles(pb::ListUsersRolesRequest {
            tenant_id: tenant_id.into(),
            user_ids: vec![user_id.into()],
        })
        .await
        .unwrap()
        .into_inner()
        .users
        .pop()
        .map(|u| u.roles.into_iter().map(|r| r.key).collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

fn bulk_path(user_id: &str) -> String {
    format!("/identity/resources/vendor-only/users/v1/{user_id}/roles/bulk")
}

fn status_path(task_id: &str) -> String {
    format!("/identity/resources/vendor-only/users/v1/bulk-roles/status/{task_id}")
}

async fn patch(api: &Api<'_>, user_id: &str, body: Value) -> reqwest::Response {
    api.request(reqwest::Method::PATCH, &bulk_path(user_id))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Polls task `task_id` over REST until it is finished; every status seen, in order.
async fn finished(api: &Api<'_>, task_id: &str) -> (Value, Vec<String>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen: Vec<String> = Vec::new();
    loop {
        let task = ok(api.get(&status_path(task_id)).await, StatusCode::OK).await;
        let status = task["status"].as_str().unwrap().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status.starts_with("Completed") {
            return (task, seen);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "task {task_id} is still {status} after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_small_update_is_done_in_the_request_over_grpc_and_rest() {
    let app = fresh(10, true).await;
    let ann = member_of(&app, &["t1", "t2", "t3"], "ann@example.com").await;
    let editor = role(&app, "", "editor").await;
    let viewer = role(&app, "", "viewer").await;
    let (_, mut users) = app.clients().await;

    // gRPC: every tenant of the user, when none is named.
    let done = users
        .bulk_update_user_roles(pb::BulkUpdateUserRolesRequest {
            user_id: ann.clone(),
            add_role_ids: vec![editor.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.user_id, ann);
    assert_eq!(done.affected_tenants, 3);
    assert_eq!(done.roles_added, [editor.as_str()]);
    assert!(done.task_id.is_empty(), "done at once: {done:?}");
    for t in ["t1", "t2", "t3"] {
        assert!(keys_in(&app, &ann, t).await.contains(&"editor".to_owned()), "{t}");
    }

    // REST: some tenants; giving what is held and taking what is lacking change nothing.
    let api = Api::environment(&app).await;
    for _ in 0..2 {
        let body = ok(
            patch(
                &api,
                &ann,
                json!({"addRoleIds": [viewer], "removeRoleIds": [editor], "tenantIds": ["t1", "t2"]}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            body,
            json!({"userId": ann, "affectedTenants": 2, "rolesAdded": [viewer], "rolesRemoved": [editor]})
        );
    }
    for t in ["t1", "t2"] {
        let keys = keys_in(&app, &ann, t).await;
        assert!(
            keys.contains(&"viewer".to_owned()) && !keys.contains(&"editor".to_owned()),
            "{t}: {keys:?}"
        );
    }
    let keys = keys_in(&app, &ann, "t3").await;
    assert!(
        keys.contains(&"editor".to_owned()) && !keys.contains(&"viewer".to_owned()),
        "{keys:?}"
    );
    assert_eq!(
        app.count("bulk_role_tasks", "1=1").await,
        0,
        "no task for a small update"
    );
}

#[tokio::test]
async fn a_large_update_is_queued_and_carried_out_by_the_worker() {
    let app = fresh(2, true).await;
    let tenants = ["w1", "w2", "w3", "w4", "w5"];
    let ann = member_of(&app, &tenants, "ann@example.com").await;
    let editor = role(&app, "", "editor").await;
    let (_, mut users) = app.clients().await;
    let queued = users
        .bulk_update_user_roles(pb::BulkUpdateUserRolesRequest {
            user_id: ann.clone(),
            add_role_ids: vec![editor.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queued.affected_tenants, 5);
    assert_eq!(queued.roles_added, [editor.as_str()]);
    assert!(!queued.task_id.is_empty());

    let api = Api::environment(&app).await;
    let (task, seen) = finished(&api, &queued.task_id).await;
    // Statuses only move forward, and end completed.
    let order = ["NotStarted", "InProgress", "Completed"];
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap_or_else(|| panic!("{s}")))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(task["id"], queued.task_id.as_str());
    assert_eq!(task["userId"], ann.as_str());
    assert_eq!(task["totalTenants"], 5);
    assert_eq!(task["processedTenants"], 5);
    assert_eq!(task["addedRoleIds"], json!([editor]));
    assert_eq!(task["removedRoleIds"], json!([]));
    assert!(strings(&task["errors"]).is_empty(), "{task}");
    for t in tenants {
        assert!(keys_in(&app, &ann, t).await.contains(&"editor".to_owned()), "{t}");
    }
    let over_grpc = users
        .get_bulk_roles_task(pb::GetBulkRolesTaskRequest {
            task_id: queued.task_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(over_grpc.status(), pb::BulkRolesTaskStatus::Completed);
    assert_eq!((over_grpc.total_tenants, over_grpc.processed_tenants), (5, 5));
}

#[tokio::test]
async fn a_queued_task_waits_for_a_worker_and_a_restart_carries_it_out_into_the_next_token() {
    let app = fresh(2, false).await;
    let tenants = ["r1", "r2", "r3", "r4"];
    let ann = member_of(&app, &tenants, "ann@example.com").await;
    let editor = role(&app, "", "editor").await;
    let session = app.login("ann@example.com", PASSWORD).await;
    let tenant_of_session = claims(&session.access_token)["tenantId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !claims(&session.access_token)["roles"]
            .to_string()
            .contains("\"editor\"")
    );

    let api = Api::environment(&app).await;
    let queued = ok(
        patch(&api, &ann, json!({"addRoleIds": [editor]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queued["affectedTenants"], 4);
    assert_eq!(queued["rolesAdded"], json!([editor]));
    assert_eq!(queued["rolesRemoved"], json!([]));
    let task_id = queued["taskId"].as_str().unwrap().to_owned();
    // No worker runs here: the task is as it was queued.
    let task = ok(api.get(&status_path(&task_id)).await, StatusCode::OK).await;
    assert_eq!(task["status"], "NotStarted");
    assert_eq!(
        (task["totalTenants"].clone(), task["processedTenants"].clone()),
        (json!(4), json!(0))
    );
    let (_, mut users) = app.clients().await;
    let task = users
        .get_bulk_roles_task(pb::GetBulkRolesTaskRequest {
            task_id: task_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(task.status(), pb::BulkRolesTaskStatus::NotStarted);
    assert!(keys_in(&app, &ann, "r1").await.iter().all(|k| k != "editor"));

    // A process with a worker on the same database takes the task up at start.
    let database = app.stop().await;
    let app = spawn(database, 2, true).await;
    let api = Api::environment(&app).await;
    let (task, _) = finished(&api, &task_id).await;
    assert_eq!(task["status"], "Completed", "{task}");
    for t in tenants {
        assert!(keys_in(&app, &ann, t).await.contains(&"editor".to_owned()), "{t}");
    }
    // The session's next refresh carries the role.
    let refreshed = app
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: session.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    let claimed = claims(&refreshed.access_token);
    assert_eq!(claimed["tenantId"], tenant_of_session.as_str());
    assert!(
        strings(&claimed["roles"]).contains(&"editor".to_owned()),
        "{claimed}"
    );
}

#[tokio::test]
async fn a_tenant_the_user_left_before_its_turn_is_recorded_and_the_others_are_updated() {
    let app = fresh(1, false).await;
    let tenants = ["e1", "e2", "e3", "e4"];
    let ann = member_of(&app, &tenants, "ann@example.com").await;
    let editor = role(&app, "", "editor").await;
    let api = Api::environment(&app).await;
    let queued = ok(
        patch(&api, &ann, json!({"addRoleIds": [editor]})).await,
        StatusCode::OK,
    )
    .await;
    let task_id = queued["taskId"].as_str().unwrap().to_owned();
    let (_, mut users) = app.clients().await;
    for t in ["e2", "e4"] {
        users
            .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
                user_id: ann.clone(),
                tenant_id: t.into(),
            })
            .await
            .unwrap();
    }

    let database = app.stop().await;
    let app = spawn(database, 1, true).await;
    let api = Api::environment(&app).await;
    let (task, _) = finished(&api, &task_id).await;
    assert_eq!(task["status"], "CompletedWithErrors", "{task}");
    assert_eq!(task["processedTenants"], 4);
    let errors = task["errors"].as_array().unwrap();
    let mut failed: Vec<&str> = errors.iter().map(|e| e["tenantId"].as_str().unwrap()).collect();
    failed.sort_unstable();
    assert_eq!(failed, ["e2", "e4"]);
    assert!(errors.iter().all(|e| e["message"].is_string()), "{task}");
    for t in ["e1", "e3"] {
        assert!(keys_in(&app, &ann, t).await.contains(&"editor".to_owned()), "{t}");
    }
    let (_, mut users) = app.clients().await;
    let over_grpc = users
        .get_bulk_roles_task(pb::GetBulkRolesTaskRequest { task_id })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(over_grpc.status(), pb::BulkRolesTaskStatus::CompletedWithErrors);
    let mut failed: Vec<String> = over_grpc.errors.into_iter().map(|e| e.tenant_id).collect();
    failed.sort();
    assert_eq!(failed, ["e2", "e4"]);
}

#[tokio::test]
async fn bad_input_is_refused_naming_what_is_wrong_and_nothing_is_written() {
    // Every valid update would be queued, and no worker would touch it: any write shows.
    let app = fresh(0, false).await;
    let ann = member_of(&app, &["b1", "b2"], "ann@example.com").await;
    let (mut tenants, mut users) = app.clients().await;
    tenants
        .create_tenant(tenant("elsewhere", "Elsewhere"))
        .await
        .unwrap();
    let editor = role(&app, "", "editor").await;
    let own = role(&app, "b1", "b1-only").await;
    let before = (keys_in(&app, &ann, "b1").await, keys_in(&app, &ann, "b2").await);
    let request = |add: &[&str], remove: &[&str], tenant_ids: &[&str]| pb::BulkUpdateUserRolesRequest {
        user_id: ann.clone(),
        add_role_ids: add.iter().map(|s| (*s).to_owned()).collect(),
        remove_role_ids: remove.iter().map(|s| (*s).to_owned()).collect(),
        tenant_ids: tenant_ids.iter().map(|s| (*s).to_owned()).collect(),
    };

    // gRPC.
    let status = users
        .bulk_update_user_roles(pb::BulkUpdateUserRolesRequest {
            user_id: "no-such-user".into(),
            ..request(&[&editor], &[], &[])
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    for (request, field, named) in [
        (request(&[], &[], &[]), "add_role_ids", vec![]),
        (
            request(&[&editor, "no-such-role"], &[], &[]),
            "add_role_ids",
            vec!["no-such-role"],
        ),
        (
            request(&[], &["gone-role"], &[]),
            "remove_role_ids",
            vec!["gone-role"],
        ),
        (
            request(&[&editor], &[&editor], &[]),
            "remove_role_ids",
            vec![editor.as_str()],
        ),
        (
            request(&[&editor], &[], &["b1", "elsewhere", "nowhere"]),
            "tenant_ids",
            vec!["elsewhere", "nowhere"],
        ),
        (request(&[&own], &[], &[]), "add_role_ids", vec![own.as_str()]),
        (
            request(&[&own], &[], &["b1", "b2"]),
            "add_role_ids",
            vec![own.as_str()],
        ),
    ] {
        let status = users.bulk_update_user_roles(request.clone()).await.unwrap_err();
        assert_invalid(&status, field);
        for name in named {
            assert!(status.message().contains(name), "{request:?}: {status:?}");
        }
    }

    // REST.
    let api = Api::environment(&app).await;
    error(
        patch(&api, "no-such-user", json!({"addRoleIds": [editor]})).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;
    for (body, field, named) in [
        (json!({}), "addRoleIds", vec![]),
        (
            json!({"addRoleIds": [], "removeRoleIds": []}),
            "addRoleIds",
            vec![],
        ),
        (
            json!({"addRoleIds": ["no-such-role"]}),
            "addRoleIds",
            vec!["no-such-role"],
        ),
        (
            json!({"removeRoleIds": ["gone-role"]}),
            "removeRoleIds",
            vec!["gone-role"],
        ),
        (
            json!({"addRoleIds": [editor], "removeRoleIds": [editor]}),
            "removeRoleIds",
            vec![editor.as_str()],
        ),
        (
            json!({"addRoleIds": [editor], "tenantIds": ["elsewhere"]}),
            "tenantIds",
            vec!["elsewhere"],
        ),
        (json!({"addRoleIds": [own]}), "addRoleIds", vec![own.as_str()]),
    ] {
        let refused = error(
            patch(&api, &ann, body.clone()).await,
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
        )
        .await;
        let first = refused["errors"][0].as_str().unwrap();
        assert!(first.starts_with(&format!("{field}:")), "{body}: {refused}");
        for name in named {
            assert!(refused.to_string().contains(name), "{body}: {refused}");
        }
    }
    let response = api
        .request(reqwest::Method::PATCH, &bulk_path(&ann))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    assert_eq!(app.count("bulk_role_tasks", "1=1").await, 0);
    assert_eq!(
        (keys_in(&app, &ann, "b1").await, keys_in(&app, &ann, "b2").await),
        before
    );

    // A tenant's own role goes to that tenant alone.
    let queued = ok(
        patch(&api, &ann, json!({"addRoleIds": [own], "tenantIds": ["b1"]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(queued["affectedTenants"], 1);
    assert_eq!(app.count("bulk_role_tasks", "1=1").await, 1);
}

#[tokio::test]
async fn a_task_is_seen_only_in_its_own_environment() {
    let app = fresh(0, false).await;
    let ann = member_of(&app, &["i1"], "ann@example.com").await;
    let editor = role(&app, "", "editor").await;
    let a = Api::environment(&app).await;
    let queued = ok(
        patch(&a, &ann, json!({"addRoleIds": [editor]})).await,
        StatusCode::OK,
    )
    .await;
    let task_id = queued["taskId"].as_str().unwrap().to_owned();
    ok(a.get(&status_path(&task_id)).await, StatusCode::OK).await;
    error(
        a.get(&status_path("no-such-task")).await,
        StatusCode::NOT_FOUND,
        "BULK_ROLES_TASK_NOT_FOUND",
    )
    .await;

    let (b, b_secret) = create_environment(&app, "B", "b.sigil.test").await;
    let b_token = app
        .auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: b.client_id.clone(),
            secret: b_secret,
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let b_api = Api::bearer(&app, &b_token);
    error(
        b_api.get(&status_path(&task_id)).await,
        StatusCode::NOT_FOUND,
        "BULK_ROLES_TASK_NOT_FOUND",
    )
    .await;
    error(
        patch(&b_api, &ann, json!({"addRoleIds": [editor]})).await,
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
    )
    .await;
    let mut b_users = app.users_with(Bearer::token(&b_token));
    let status = b_users
        .get_bulk_roles_task(pb::GetBulkRolesTaskRequest {
            task_id: task_id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "BULK_ROLES_TASK_NOT_FOUND");
    let status = b_users
        .bulk_update_user_roles(pb::BulkUpdateUserRolesRequest {
            user_id: ann.clone(),
            add_role_ids: vec![editor.clone()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    // A user's token is not an environment's.
    let session = app.login("ann@example.com", PASSWORD).await;
    let as_user = Api::bearer(&app, &session.access_token);
    let response = as_user.get(&status_path(&task_id)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("bulk_role_tasks", "1=1").await, 1);
}

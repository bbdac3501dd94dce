//! User groups over gRPC and REST: their changes and refusals, their members and roles, the
//! roles members hold through them (only when the groups configuration says so), and a tenant
//! admin confined to its own tenant's groups.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{
    self, group_service_client::GroupServiceClient, role_service_client::RoleServiceClient,
};

use crate::{
    helpers::{Bearer, TestApp, assert_error, assert_invalid, invitee, spawn_app, tenant},
    http::{Api, error, invalid, ok},
};

const PASSWORD: &str = "correct horse battery";
const GROUPS: &str = "/identity/resources/groups/v1";
const CONFIG: &str = "/identity/resources/groups/v1/config";

type Intercepted = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

async fn groups(app: &TestApp) -> GroupServiceClient<Intercepted> {
    GroupServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

async fn roles(app: &TestApp) -> RoleServiceClient<Intercepted> {
    RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

/// Creates tenant `tenant_id` (once) and a member with a password: its id.
async fn member(app: &TestApp, tenant_id: &str, email: &str) -> String {
    let (mut tenants, mut users) = app.clients().await;
    match tenants.create_tenant(tenant(tenant_id, tenant_id)).await {
        Ok(_) => {}
        Err(status) if status.code() == Code::AlreadyExists => {}
        Err(status) => panic!("{status:?}"),
    }
    users
        .create_user(pb::CreateUserRequest {
            password: Some(PASSWORD.into()),
            ..invitee(tenant_id, email)
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
        .id
}

fn new_group(tenant_id: &str, name: &str) -> pb::CreateGroupRequest {
    pb::CreateGroupRequest {
        tenant_id: tenant_id.into(),
        name: name.into(),
        ..Default::default()
    }
}

/// A role of the environment (or of `tenant_id`): its id.
async fn new_role(app: &TestApp, tenant_id: &str, key: &str, level: i32) -> String {
    roles(app)
        .await
        .create_roles(pb::CreateRolesRequest {
            tenant_id: tenant_id.into(),
            roles: vec![pb::NewRole {
                key: key.into(),
                name: key.into(),
                level,
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

/// The claims of an access token, unverified (the tests only read them).
fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn names(groups: &[pb::Group]) -> Vec<&str> {
    groups.iter().map(|g| g.name.as_str()).collect()
}

#[tokio::test]
async fn groups_are_created_read_changed_and_deleted_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await;
    member(&app, "globex", "zed@example.com").await;
    let mut client = groups(&app).await;
    let ops = client
        .create_group(pb::CreateGroupRequest {
            description: "Operations".into(),
            color: "#ff0000".into(),
            metadata: r#"{"floor":3}"#.into(),
            ..new_group("acme", "ops")
        })
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert_eq!(
        (
            ops.tenant_id.as_str(),
            ops.color.as_str(),
            ops.managed_by.as_str()
        ),
        ("acme", "#ff0000", "frontegg")
    );
    client.create_group(new_group("acme", "dev")).await.unwrap();
    // The same name in another tenant is another group.
    client.create_group(new_group("globex", "ops")).await.unwrap();

    // A name taken in the tenant is a conflict; bad fields are named; nothing is created.
    let status = client.create_group(new_group("acme", "ops")).await.unwrap_err();
    assert_error(&status, Code::AlreadyExists, "GROUP_ALREADY_EXISTS");
    let status = client
        .create_group(pb::CreateGroupRequest {
            metadata: "[1, 2]".into(),
            ..new_group("acme", "bad")
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "metadata");
    let status = client.create_group(new_group("acme", "")).await.unwrap_err();
    assert_invalid(&status, "name");
    let status = client.create_group(new_group("", "lost")).await.unwrap_err();
    assert_invalid(&status, "tenant_id");
    let status = client
        .create_group(new_group("nowhere", "lost"))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");
    let listed = client
        .list_groups(pb::ListGroupsRequest {
            tenant_id: "acme".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .groups;
    // Oldest first; the test clock stands still, so the two tie and their ids decide.
    let mut listed = names(&listed);
    listed.sort_unstable();
    assert_eq!(listed, ["dev", "ops"]);

    // Reads: one, some, a page.
    let got = client
        .get_group(pb::GetGroupRequest {
            tenant_id: "acme".into(),
            group_id: ops.id.clone(),
            relations: pb::GroupRelations::RolesAndUsers.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert_eq!(got.metadata, r#"{"floor":3}"#);
    let some = client
        .batch_get_groups(pb::BatchGetGroupsRequest {
            tenant_id: "acme".into(),
            group_ids: vec![ops.id.clone(), "no-such-group".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .groups;
    assert_eq!(names(&some), ["ops"]);
    let page = client
        .list_groups_paged(pb::ListGroupsPagedRequest {
            tenant_id: "acme".into(),
            limit: 1,
            sort_by: pb::GroupSortBy::Name.into(),
            order: pb::SortOrder::Desc.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((page.total_items, page.total_pages), (2, 2));
    assert_eq!(names(&page.groups), ["ops"]);
    let status = client
        .list_groups_paged(pb::ListGroupsPagedRequest {
            tenant_id: "acme".into(),
            sort_by: 99,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "sort_by");

    // Changes: only what is set; a taken name is a conflict and changes nothing.
    let changed = client
        .update_group(pb::UpdateGroupRequest {
            tenant_id: "acme".into(),
            group_id: ops.id.clone(),
            name: Some("operations".into()),
            color: Some(String::new()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert_eq!(
        (
            changed.name.as_str(),
            changed.color.as_str(),
            changed.description.as_str()
        ),
        ("operations", "", "Operations")
    );
    let status = client
        .update_group(pb::UpdateGroupRequest {
            tenant_id: "acme".into(),
            group_id: ops.id.clone(),
            name: Some("dev".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::AlreadyExists, "GROUP_ALREADY_EXISTS");
    // Another tenant's group is not found through this one.
    let status = client
        .get_group(pb::GetGroupRequest {
            tenant_id: "globex".into(),
            group_id: ops.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "GROUP_NOT_FOUND");

    client
        .delete_group(pb::DeleteGroupRequest {
            tenant_id: "acme".into(),
            group_id: ops.id.clone(),
        })
        .await
        .unwrap();
    for status in [
        client
            .delete_group(pb::DeleteGroupRequest {
                tenant_id: "acme".into(),
                group_id: ops.id.clone(),
            })
            .await
            .unwrap_err(),
        client
            .get_group(pb::GetGroupRequest {
                tenant_id: "acme".into(),
                group_id: ops.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
    ] {
        assert_error(&status, Code::NotFound, "GROUP_NOT_FOUND");
    }
}

#[tokio::test]
async fn members_and_roles_are_added_and_removed_and_bad_ids_change_nothing() {
    let app = spawn_app().await;
    let ann = member(&app, "acme", "ann@example.com").await;
    let bob = member(&app, "acme", "bob@example.com").await;
    let zed = member(&app, "globex", "zed@example.com").await;
    let auditor = new_role(&app, "", "auditor", 5).await;
    let acme_role = new_role(&app, "acme", "acme-editor", 5).await;
    let globex_role = new_role(&app, "globex", "globex-editor", 5).await;
    let mut client = groups(&app).await;
    let group = client
        .create_group(new_group("acme", "ops"))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap()
        .id;
    let add_users = |user_ids: Vec<String>| pb::AddGroupUsersRequest {
        tenant_id: "acme".into(),
        group_id: group.clone(),
        user_ids,
    };
    let add_roles = |role_ids: Vec<String>| pb::AddGroupRolesRequest {
        tenant_id: "acme".into(),
        group_id: group.clone(),
        role_ids,
    };

    // Unknown users, users of another tenant, unknown roles and roles of another tenant are
    // named, and nothing is added.
    for (request, named) in [
        (
            add_users(vec![ann.clone(), "no-such-user".into()]),
            "no-such-user",
        ),
        (add_users(vec![ann.clone(), zed.clone()]), zed.as_str()),
    ] {
        let status = client.add_group_users(request).await.unwrap_err();
        assert_invalid(&status, "user_ids");
        assert!(status.message().contains(named), "{status:?}");
    }
    for (request, named) in [
        (
            add_roles(vec![auditor.clone(), "no-such-role".into()]),
            "no-such-role",
        ),
        (
            add_roles(vec![auditor.clone(), globex_role.clone()]),
            globex_role.as_str(),
        ),
    ] {
        let status = client.add_group_roles(request).await.unwrap_err();
        assert_invalid(&status, "role_ids");
        assert!(status.message().contains(named), "{status:?}");
    }
    let read = |relations: pb::GroupRelations| pb::GetGroupRequest {
        tenant_id: "acme".into(),
        group_id: group.clone(),
        relations: relations.into(),
    };
    let empty = client
        .get_group(read(pb::GroupRelations::RolesAndUsers))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert!(empty.users.is_empty() && empty.roles.is_empty(), "{empty:?}");

    // Added twice at once, a member and a role are there once.
    let (mut one, mut other) = (client.clone(), client.clone());
    let (first, second) = tokio::join!(
        one.add_group_users(add_users(vec![ann.clone(), bob.clone()])),
        other.add_group_users(add_users(vec![ann.clone()])),
    );
    first.unwrap();
    second.unwrap();
    let (first, second) = tokio::join!(
        one.add_group_roles(add_roles(vec![auditor.clone(), acme_role.clone()])),
        other.add_group_roles(add_roles(vec![auditor.clone()])),
    );
    first.unwrap();
    second.unwrap();
    assert_eq!(
        app.count("group_members", &format!("group_id = '{group}'")).await,
        2
    );
    assert_eq!(
        app.count("group_roles", &format!("group_id = '{group}'")).await,
        2
    );
    let full = client
        .get_group(read(pb::GroupRelations::RolesAndUsers))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    let mut emails: Vec<&str> = full.users.iter().map(|u| u.email.as_str()).collect();
    emails.sort_unstable();
    assert_eq!(emails, ["ann@example.com", "bob@example.com"]);
    let keys: Vec<&str> = full.roles.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["acme-editor", "auditor"]);
    // The roles listing sorts by how many groups hold each role.
    let by_groups = ok(
        Api::environment(&app)
            .await
            .request(
                Method::GET,
                "/identity/resources/roles/v2?_sortBy=groups&_order=DESC&_limit=2",
            )
            .header("frontegg-tenant-id", "acme")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let mut first_two: Vec<&str> = by_groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    first_two.sort_unstable();
    assert_eq!(first_two, ["acme-editor", "auditor"], "{by_groups}");
    let roles_only = client
        .get_group(read(pb::GroupRelations::Roles))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert!(roles_only.users.is_empty() && roles_only.roles.len() == 2);

    // Each user's groups in the tenant; non-members are left out.
    let users = client
        .list_users_groups(pb::ListUsersGroupsRequest {
            tenant_id: "acme".into(),
            user_ids: vec![bob.clone(), zed.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].user_id.as_str(), users[0].group_ids.clone()),
        (bob.as_str(), vec![group.clone()])
    );

    // Removals; what is not there is ignored.
    client
        .remove_group_roles(pb::RemoveGroupRolesRequest {
            tenant_id: "acme".into(),
            group_id: group.clone(),
            role_ids: vec![acme_role.clone(), "no-such-role".into()],
        })
        .await
        .unwrap();
    client
        .remove_group_users(pb::RemoveGroupUsersRequest {
            tenant_id: "acme".into(),
            group_id: group.clone(),
            user_ids: vec![ann.clone(), zed.clone()],
        })
        .await
        .unwrap();
    let after = client
        .get_group(read(pb::GroupRelations::RolesAndUsers))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert_eq!(after.users.len(), 1);
    assert_eq!(after.roles.len(), 1);

    // A user removed from the tenant leaves its groups there.
    let (_, mut users_client) = app.clients().await;
    users_client
        .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
            user_id: bob.clone(),
            tenant_id: "acme".into(),
        })
        .await
        .unwrap();
    let left = client
        .get_group(read(pb::GroupRelations::Users))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap();
    assert!(left.users.is_empty(), "{left:?}");

    // A deleted group takes its links with it.
    client
        .add_group_users(add_users(vec![ann.clone()]))
        .await
        .unwrap();
    client
        .delete_group(pb::DeleteGroupRequest {
            tenant_id: "acme".into(),
            group_id: group.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        app.count("group_members", &format!("group_id = '{group}'")).await,
        0
    );
    assert_eq!(
        app.count("group_roles", &format!("group_id = '{group}'")).await,
        0
    );
}

/// Signs `email` in and returns its authentication.
async fn signed_in(app: &TestApp, email: &str) -> pb::AuthenticationResponse {
    app.login(email, PASSWORD).await
}

async fn refreshed(app: &TestApp, session: &pb::AuthenticationResponse) -> pb::AuthenticationResponse {
    app.auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: session.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap()
}

#[tokio::test]
async fn members_hold_their_groups_roles_only_while_the_configuration_allows_it() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await; // acme's admin
    let bob = member(&app, "acme", "bob@example.com").await; // read-only
    let mut permissions = pb::permission_service_client::PermissionServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&app.env_token().await),
    );
    let reports = permissions
        .create_permissions(pb::CreatePermissionsRequest {
            permissions: vec![pb::NewPermission {
                key: "reports.read".into(),
                name: "Read reports".into(),
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .permissions
        .remove(0)
        .id;
    let auditor = new_role(&app, "", "auditor", 5).await;
    roles(&app)
        .await
        .set_role_permissions(pb::SetRolePermissionsRequest {
            role_id: auditor.clone(),
            permission_ids: vec![reports],
        })
        .await
        .unwrap();
    let mut client = groups(&app).await;
    let group = client
        .create_group(new_group("acme", "auditors"))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap()
        .id;
    client
        .add_group_roles(pb::AddGroupRolesRequest {
            tenant_id: "acme".into(),
            group_id: group.clone(),
            role_ids: vec![auditor.clone()],
        })
        .await
        .unwrap();
    let session = signed_in(&app, "bob@example.com").await;
    let before = claims(&session.access_token);
    assert!(
        !strings(&before["roles"]).contains(&"auditor".to_owned()),
        "{before}"
    );
    client
        .add_group_users(pb::AddGroupUsersRequest {
            tenant_id: "acme".into(),
            group_id: group.clone(),
            user_ids: vec![bob.clone()],
        })
        .await
        .unwrap();

    // On by default: the next refresh carries the group's role and its permissions.
    let on = refreshed(&app, &session).await;
    let claimed = claims(&on.access_token);
    assert!(
        strings(&claimed["roles"]).contains(&"auditor".to_owned()),
        "{claimed}"
    );
    assert!(
        strings(&claimed["roles"]).contains(&"ReadOnly".to_owned()),
        "{claimed}"
    );
    assert!(
        strings(&claimed["permissions"]).contains(&"reports.read".to_owned()),
        "{claimed}"
    );
    // So does a new sign-in, and the user's authorization.
    let fresh = claims(&signed_in(&app, "bob@example.com").await.access_token);
    assert!(
        strings(&fresh["permissions"]).contains(&"reports.read".to_owned()),
        "{fresh}"
    );
    let authorization = ok(
        Api::bearer(&app, &on.access_token)
            .get("/identity/resources/users/v1/me/authorization")
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(authorization.to_string().contains("auditor"), "{authorization}");
    assert!(
        authorization.to_string().contains("reports.read"),
        "{authorization}"
    );

    // Group roles off, then groups off: the next refresh carries the user's own roles only.
    let env = Api::environment(&app).await;
    let mut current = on;
    for body in [
        json!({"rolesEnabled": false}),
        json!({"rolesEnabled": true, "enabled": false}),
    ] {
        let configured = ok(env.post(CONFIG, body.clone()).await, StatusCode::CREATED).await;
        assert_eq!(
            configured["enabled"],
            body.get("enabled").cloned().unwrap_or(json!(true))
        );
        current = refreshed(&app, &current).await;
        let claimed = claims(&current.access_token);
        assert_eq!(strings(&claimed["roles"]), ["ReadOnly"], "{claimed}");
        assert!(
            !strings(&claimed["permissions"]).contains(&"reports.read".to_owned()),
            "{claimed}"
        );
        let authorization = ok(
            Api::bearer(&app, &current.access_token)
                .get("/identity/resources/users/v1/me/authorization")
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(!authorization.to_string().contains("auditor"), "{authorization}");
    }
    // Back on over gRPC: the role is back at the next refresh.
    let configured = client
        .update_groups_configuration(pb::UpdateGroupsConfigurationRequest {
            enabled: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert!(configured.enabled && configured.roles_enabled);
    let read = client
        .get_groups_configuration(pb::GetGroupsConfigurationRequest {})
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(read, configured);
    let session = signed_in(&app, "bob@example.com").await;
    let back = claims(&refreshed(&app, &session).await.access_token);
    assert!(strings(&back["roles"]).contains(&"auditor".to_owned()), "{back}");

    // Out of the group, the role is gone from the next token.
    client
        .remove_group_users(pb::RemoveGroupUsersRequest {
            tenant_id: "acme".into(),
            group_id: group,
            user_ids: vec![bob],
        })
        .await
        .unwrap();
    let out = claims(&signed_in(&app, "bob@example.com").await.access_token);
    assert_eq!(strings(&out["roles"]), ["ReadOnly"], "{out}");
}

#[tokio::test]
async fn groups_over_rest_answer_the_contracts_shapes_and_statuses() {
    let app = spawn_app().await;
    let ann = member(&app, "acme", "ann@example.com").await;
    member(&app, "globex", "zed@example.com").await;
    let auditor = new_role(&app, "", "auditor", 5).await;
    let env = Api::environment(&app).await;
    let in_acme = |method: Method, path: &str| env.request(method, path).header("frontegg-tenant-id", "acme");

    let created = ok(
        in_acme(Method::POST, GROUPS)
            .json(&json!({"name": "ops", "color": "#00f", "description": "Ops", "metadata": "{\"a\":1}"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    for field in [
        "id",
        "name",
        "color",
        "description",
        "metadata",
        "roles",
        "users",
        "managedBy",
        "createdAt",
        "updatedAt",
    ] {
        assert!(created.get(field).is_some(), "{field} in {created}");
    }
    let id = created["id"].as_str().unwrap().to_owned();
    error(
        in_acme(Method::POST, GROUPS)
            .json(&json!({"name": "ops"}))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "GROUP_ALREADY_EXISTS",
    )
    .await;
    invalid(
        in_acme(Method::POST, GROUPS)
            .json(&json!({"name": "x", "metadata": "not json"}))
            .send()
            .await
            .unwrap(),
        "metadata",
    )
    .await;
    // An environment names the tenant.
    invalid(
        env.post(GROUPS, json!({"name": "lost"})).await,
        "frontegg-tenant-id",
    )
    .await;

    let group_path = format!("{GROUPS}/{id}");
    ok(
        in_acme(Method::POST, &format!("{group_path}/users"))
            .json(&json!({"userIds": [ann]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    ok(
        in_acme(Method::POST, &format!("{group_path}/roles"))
            .json(&json!({"roleIds": [auditor]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    error(
        in_acme(Method::POST, &format!("{group_path}/roles"))
            .json(&json!({"roleIds": ["no-such-role"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;

    let listed = ok(
        in_acme(Method::GET, &format!("{GROUPS}?_groupsRelations=rolesAndUsers"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let group = &listed["groups"][0];
    assert_eq!(group["users"][0]["email"], "ann@example.com");
    assert_eq!(group["users"][0]["activatedForTenant"], true);
    assert_eq!(group["roles"][0]["key"], "auditor");
    let bare = ok(in_acme(Method::GET, GROUPS).send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(bare["groups"][0]["users"], json!([]));
    invalid(
        in_acme(Method::GET, &format!("{GROUPS}?_groupsRelations=everything"))
            .send()
            .await
            .unwrap(),
        "_groupsRelations",
    )
    .await;
    let one = ok(
        in_acme(Method::GET, &format!("{group_path}?_groupsRelations=users"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (one["id"].as_str(), one["roles"].clone()),
        (Some(id.as_str()), json!([]))
    );
    let some = ok(
        in_acme(Method::POST, &format!("{GROUPS}/bulkGet"))
            .json(&json!({"groupsIds": [id, "no-such-group"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(some["groups"].as_array().unwrap().len(), 1);
    let changed = ok(
        in_acme(Method::PATCH, &group_path)
            .json(&json!({"name": "operations"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (changed["name"].as_str(), changed["color"].as_str()),
        (Some("operations"), Some("#00f"))
    );
    let page = ok(
        in_acme(
            Method::GET,
            "/identity/resources/groups/v2?_limit=1&_offset=0&_sortBy=name&_order=DESC",
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["_metadata"]["totalItems"], 1);
    assert_eq!(page["items"][0]["name"], "operations");
    invalid(
        in_acme(Method::GET, "/identity/resources/groups/v2?_sortBy=colour")
            .send()
            .await
            .unwrap(),
        "_sortBy",
    )
    .await;
    let users = ok(
        in_acme(
            Method::GET,
            &format!("/identity/resources/users/v3/groups?ids={ann}"),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    // In the shape Frontegg's client reads.
    assert_eq!(users[0]["userId"], ann.as_str());
    assert_eq!(users[0]["tenantId"], "acme");
    assert!(users[0]["vendorId"].is_string(), "{users}");
    assert_eq!(users[0]["groupIds"], json!([id]));

    ok(
        in_acme(Method::DELETE, &format!("{group_path}/roles"))
            .json(&json!({"roleIds": [auditor]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    ok(
        in_acme(Method::DELETE, &format!("{group_path}/users"))
            .json(&json!({"userIds": [ann]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    // globex does not see acme's group.
    error(
        env.request(Method::GET, &group_path)
            .header("frontegg-tenant-id", "globex")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "GROUP_NOT_FOUND",
    )
    .await;
    ok(
        in_acme(Method::DELETE, &group_path).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    error(
        in_acme(Method::DELETE, &group_path).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "GROUP_NOT_FOUND",
    )
    .await;

    // The configuration: the contract's defaults, then a change of one field.
    let config = ok(env.get(CONFIG).await, StatusCode::OK).await;
    assert_eq!(config, json!({"enabled": true, "rolesEnabled": true}));
    ok(
        env.post(CONFIG, json!({"rolesEnabled": false})).await,
        StatusCode::CREATED,
    )
    .await;
    let config = ok(env.get(CONFIG).await, StatusCode::OK).await;
    assert_eq!(config, json!({"enabled": true, "rolesEnabled": false}));
    error(
        env.post(CONFIG, json!({"enabled": "yes"})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
}

#[tokio::test]
async fn a_tenant_admin_manages_its_own_tenants_groups_and_nothing_else() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await; // acme's admin
    let bob = member(&app, "acme", "bob@example.com").await; // read-only
    member(&app, "globex", "zed@example.com").await; // globex's admin
    let ann_token = app.login("ann@example.com", PASSWORD).await.access_token;
    let bob_token = app.login("bob@example.com", PASSWORD).await.access_token;
    let zed_token = app.login("zed@example.com", PASSWORD).await.access_token;

    // Frontegg's SDK calls under /frontegg, with the user's token and no tenant header.
    let acme_admin = Api::bearer(&app, &ann_token);
    let created = ok(
        acme_admin
            .post(&format!("/frontegg{GROUPS}"), json!({"name": "ops"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["tenantId"], "acme");
    let id = created["id"].as_str().unwrap().to_owned();
    let group_path = format!("{GROUPS}/{id}");
    ok(
        acme_admin
            .post(&format!("{group_path}/users"), json!({"userIds": [bob]}))
            .await,
        StatusCode::CREATED,
    )
    .await;

    // globex's admin neither sees nor changes acme's group, whatever tenant it names.
    let globex_admin = Api::bearer(&app, &zed_token);
    let listed = ok(
        globex_admin
            .request(Method::GET, GROUPS)
            .header("frontegg-tenant-id", "acme")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["groups"], json!([]), "{listed}");
    for response in [
        globex_admin.get(&group_path).await,
        globex_admin
            .request(Method::PATCH, &group_path)
            .json(&json!({"name": "taken"}))
            .send()
            .await
            .unwrap(),
        globex_admin.delete(&group_path).await,
        globex_admin
            .post(&format!("{group_path}/users"), json!({"userIds": [bob]}))
            .await,
        globex_admin
            .request(Method::DELETE, &format!("{group_path}/users"))
            .json(&json!({"userIds": [bob]}))
            .send()
            .await
            .unwrap(),
    ] {
        error(response, StatusCode::NOT_FOUND, "GROUP_NOT_FOUND").await;
    }
    // Over gRPC too: the tenant named is ignored for a user.
    let mut zed_groups = GroupServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&zed_token));
    let status = zed_groups
        .get_group(pb::GetGroupRequest {
            tenant_id: "acme".into(),
            group_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "GROUP_NOT_FOUND");

    // A read-only member reads, and is refused changes, told which permission it lacks.
    let read_only = Api::bearer(&app, &bob_token);
    ok(read_only.get(GROUPS).await, StatusCode::OK).await;
    let body = error(
        read_only.post(GROUPS, json!({"name": "sneaky"})).await,
        StatusCode::FORBIDDEN,
        "MISSING_PERMISSION",
    )
    .await;
    assert!(body.to_string().contains("fe.secure.write.groups"), "{body}");
    // The configuration is the environment's to change.
    error(
        acme_admin.post(CONFIG, json!({"enabled": false})).await,
        StatusCode::FORBIDDEN,
        "CALLER_NOT_ALLOWED",
    )
    .await;
    ok(acme_admin.get(CONFIG).await, StatusCode::OK).await;

    ok(acme_admin.delete(&group_path).await, StatusCode::OK).await;
}

#[tokio::test]
async fn a_role_moved_to_another_tenant_leaves_groups_and_a_deleted_tenant_takes_its_groups() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await;
    let zed = member(&app, "globex", "zed@example.com").await;
    let auditor = new_role(&app, "", "auditor", 5).await;
    let mut client = groups(&app).await;
    let mut groups_with_auditor = Vec::new();
    for tenant_id in ["acme", "globex"] {
        let group = client
            .create_group(new_group(tenant_id, "auditors"))
            .await
            .unwrap()
            .into_inner()
            .group
            .unwrap()
            .id;
        client
            .add_group_roles(pb::AddGroupRolesRequest {
                tenant_id: tenant_id.into(),
                group_id: group.clone(),
                role_ids: vec![auditor.clone()],
            })
            .await
            .unwrap();
        groups_with_auditor.push(group);
    }
    client
        .add_group_users(pb::AddGroupUsersRequest {
            tenant_id: "globex".into(),
            group_id: groups_with_auditor[1].clone(),
            user_ids: vec![zed],
        })
        .await
        .unwrap();

    // The role becomes globex's own: acme's group no longer holds it, globex's still does.
    roles(&app)
        .await
        .set_role_tenant(pb::SetRoleTenantRequest {
            role_id: auditor.clone(),
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    let held = |group: &str| format!("group_id = '{group}' AND role_id = '{auditor}'");
    assert_eq!(app.count("group_roles", &held(&groups_with_auditor[0])).await, 0);
    assert_eq!(app.count("group_roles", &held(&groups_with_auditor[1])).await, 1);

    // globex deleted, its group and the group's links are gone; acme's stays.
    let (mut tenants, _) = app.clients().await;
    tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "globex".into(),
        })
        .await
        .unwrap();
    let globex_group = &groups_with_auditor[1];
    assert_eq!(app.count("groups", &format!("id = '{globex_group}'")).await, 0);
    assert_eq!(
        app.count("group_members", &format!("group_id = '{globex_group}'"))
            .await,
        0
    );
    assert_eq!(
        app.count("group_roles", &format!("group_id = '{globex_group}'"))
            .await,
        0
    );
    let acme_group = &groups_with_auditor[0];
    assert_eq!(app.count("groups", &format!("id = '{acme_group}'")).await, 1);
}

#[tokio::test]
async fn a_tenant_admin_gives_groups_no_role_above_its_own_level() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await; // Admin, level 0
    let bob = member(&app, "acme", "bob@example.com").await; // ReadOnly, level 1
    let carl = member(&app, "acme", "carl@example.com").await;
    let mut env_roles = roles(&app).await;
    let listed = env_roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles;
    let admin = listed.iter().find(|r| r.key == "Admin").unwrap().id.clone();
    let all = pb::permission_service_client::PermissionServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&app.env_token().await),
    )
    .list_permissions(pb::ListPermissionsRequest {})
    .await
    .unwrap()
    .into_inner()
    .permissions;
    let manager = new_role(&app, "", "group-manager", 3).await;
    env_roles
        .set_role_permissions(pb::SetRolePermissionsRequest {
            role_id: manager.clone(),
            permission_ids: all
                .iter()
                .filter(|p| p.key.ends_with(".groupsRoles") || p.key.ends_with(".groupsUsers"))
                .map(|p| p.id.clone())
                .collect(),
        })
        .await
        .unwrap();
    env_roles
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: bob.clone(),
            tenant_id: "acme".into(),
            role_ids: vec![manager.clone()],
        })
        .await
        .unwrap();
    let mut client = groups(&app).await;
    let group = client
        .create_group(new_group("acme", "ops"))
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap()
        .id;
    let bob_token = app.login("bob@example.com", PASSWORD).await.access_token;
    let mut as_bob = GroupServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&bob_token));
    let add_roles = |role_ids: Vec<String>| pb::AddGroupRolesRequest {
        group_id: group.clone(),
        role_ids,
        ..Default::default()
    };
    let status = as_bob
        .add_group_roles(add_roles(vec![manager.clone(), admin.clone()]))
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_LEVEL_TOO_HIGH");
    as_bob.add_group_roles(add_roles(vec![manager])).await.unwrap();
    as_bob
        .add_group_users(pb::AddGroupUsersRequest {
            group_id: group.clone(),
            user_ids: vec![carl.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    // A group holding a role above bob's is out of bob's reach for members too.
    client
        .add_group_roles(pb::AddGroupRolesRequest {
            tenant_id: "acme".into(),
            ..add_roles(vec![admin])
        })
        .await
        .unwrap();
    let status = as_bob
        .remove_group_users(pb::RemoveGroupUsersRequest {
            group_id: group.clone(),
            user_ids: vec![carl],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "ROLE_LEVEL_TOO_HIGH");
}

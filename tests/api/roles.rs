//! Roles, permissions and their categories, over gRPC and REST: the built-ins, the changes and
//! their refusals, what access tokens carry, and a tenant admin confined to its own tenant.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{
    self, permission_service_client::PermissionServiceClient, role_service_client::RoleServiceClient,
};

use crate::{
    helpers::{Bearer, TestApp, assert_error, claims, invitee, spawn_app, tenant},
    http::{Api, error, ok},
};

const PASSWORD: &str = "correct horse battery";
const ROLES: &str = "/identity/resources/roles/v1";
const PERMISSIONS: &str = "/identity/resources/permissions/v1";
const CATEGORIES: &str = "/identity/resources/permissions/v1/categories";

type Intercepted = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

async fn roles(app: &TestApp) -> RoleServiceClient<Intercepted> {
    RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

async fn permissions(app: &TestApp) -> PermissionServiceClient<Intercepted> {
    PermissionServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

fn new_role(key: &str) -> pb::NewRole {
    pb::NewRole {
        key: key.into(),
        name: format!("Role {key}"),
        level: 5,
        ..Default::default()
    }
}

/// The keys of `roles`, sorted.
fn keys(roles: &[pb::Role]) -> Vec<String> {
    let mut keys: Vec<String> = roles.iter().map(|r| r.key.clone()).collect();
    keys.sort();
    keys
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Creates tenant `tenant_id` and a member with a password, and signs it in: its
/// authentication.
async fn member(app: &TestApp, tenant_id: &str, email: &str) -> pb::AuthenticationResponse {
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
        .unwrap();
    app.login(email, PASSWORD).await
}

#[tokio::test]
async fn the_built_in_roles_permissions_and_categories_exist_from_the_first_start() {
    let app = spawn_app().await;
    let listed = roles(&app)
        .await
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles;
    let admin = listed.iter().find(|r| r.key == "Admin").expect("an Admin role");
    assert!(admin.first_user_role);
    assert!(!admin.permission_ids.is_empty());
    let read_only = listed
        .iter()
        .find(|r| r.key == "ReadOnly")
        .expect("a ReadOnly role");
    assert!(read_only.is_default);

    let all = permissions(&app)
        .await
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .permissions;
    for key in [
        "fe.secure.read.users",
        "fe.secure.write.roles",
        "fe.secure.read.permissions",
    ] {
        let permission = all
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("{key}"));
        assert!(permission.fe_permission, "{key}");
        assert!(permission.role_ids.contains(&admin.id), "Admin holds {key}");
    }
    let categories = permissions(&app)
        .await
        .list_permission_categories(pb::ListPermissionCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    assert!(
        categories
            .iter()
            .any(|c| c.fe_category && !c.permissions.is_empty())
    );

    // The same over REST, in the contract's shape.
    let api = Api::environment(&app).await;
    let rest_roles = ok(api.get(ROLES).await, StatusCode::OK).await;
    let rest_admin = rest_roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "Admin")
        .unwrap()
        .clone();
    assert_eq!(rest_admin["id"], admin.id);
    assert_eq!(rest_admin["firstUserRole"], true);
    assert!(rest_admin["vendorId"].is_string());
    assert!(
        rest_admin["permissions"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    let rest_permissions = ok(api.get(PERMISSIONS).await, StatusCode::OK).await;
    assert_eq!(rest_permissions.as_array().unwrap().len(), all.len());
    let first = &rest_permissions[0];
    for field in [
        "id",
        "key",
        "name",
        "roleIds",
        "fePermission",
        "createdAt",
        "updatedAt",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    let rest_categories = ok(api.get(CATEGORIES).await, StatusCode::OK).await;
    assert_eq!(rest_categories.as_array().unwrap().len(), categories.len());
}

#[tokio::test]
async fn roles_are_created_changed_and_deleted_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let mut client = roles(&app).await;
    let created = client
        .create_roles(pb::CreateRolesRequest {
            roles: vec![new_role("editor"), new_role("viewer")],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert_eq!(keys(&created), ["editor", "viewer"]);
    let editor = created.iter().find(|r| r.key == "editor").unwrap().clone();

    // A key taken, or given twice, is a conflict, and nothing is created.
    for batch in [
        vec![new_role("fresh"), new_role("editor")],
        vec![new_role("twin"), new_role("twin")],
    ] {
        let status = client
            .create_roles(pb::CreateRolesRequest {
                roles: batch,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    }
    let status = client
        .create_roles(pb::CreateRolesRequest {
            roles: vec![pb::NewRole {
                level: 40000,
                ..new_role("too-weak")
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let listed = client
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert!(
        !listed
            .iter()
            .any(|r| ["fresh", "twin", "too-weak"].contains(&r.key.as_str()))
    );

    let changed = client
        .update_role(pb::UpdateRoleRequest {
            role_id: editor.id.clone(),
            name: Some("Editors".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.key.as_str()),
        ("Editors", "editor")
    );

    // Unknown permission ids are named, and the role keeps its permissions.
    let all = permissions(&app)
        .await
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .permissions;
    let read_users = all
        .iter()
        .find(|p| p.key == "fe.secure.read.users")
        .unwrap()
        .id
        .clone();
    let set = client
        .set_role_permissions(pb::SetRolePermissionsRequest {
            role_id: editor.id.clone(),
            permission_ids: vec![read_users.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(set.permission_ids, std::slice::from_ref(&read_users));
    let status = client
        .set_role_permissions(pb::SetRolePermissionsRequest {
            role_id: editor.id.clone(),
            permission_ids: vec!["no-such-permission".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("no-such-permission"), "{status:?}");
    let kept = client
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles
        .into_iter()
        .find(|r| r.id == editor.id)
        .unwrap();
    assert_eq!(kept.permission_ids, [read_users]);

    client
        .delete_role(pb::DeleteRoleRequest {
            role_id: editor.id.clone(),
        })
        .await
        .unwrap();
    let status = client
        .delete_role(pb::DeleteRoleRequest { role_id: editor.id })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "ROLE_NOT_FOUND");
}

#[tokio::test]
async fn roles_over_rest_answer_the_contracts_statuses() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let created = ok(
        api.post(ROLES, json!([{"key": "editor", "name": "Editor", "level": 3}]))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let id = created[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(created[0]["tenantId"], Value::Null);
    error(
        api.post(ROLES, json!([{"key": "editor", "name": "Again", "level": 3}]))
            .await,
        StatusCode::CONFLICT,
        "ROLE_ALREADY_EXISTS",
    )
    .await;
    let patched = ok(
        api.request(Method::PATCH, &format!("{ROLES}/{id}"))
            .json(&json!({"description": "Edits things"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["description"], "Edits things");
    let unknown = api
        .put(
            &format!("{ROLES}/{id}/permissions"),
            json!({"permissionIds": ["nope-1", "nope-2"]}),
        )
        .await;
    let body = error(unknown, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT").await;
    assert!(
        body.to_string().contains("nope-1") && body.to_string().contains("nope-2"),
        "{body}"
    );
    let moved = ok(
        api.put(&format!("{ROLES}/{id}/tenant"), json!({"tenantId": null}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["tenantId"], Value::Null);
    let deleted = api.delete(&format!("{ROLES}/{id}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    error(
        api.delete(&format!("{ROLES}/{id}")).await,
        StatusCode::NOT_FOUND,
        "ROLE_NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn a_tenants_first_member_is_its_admin_and_later_members_get_the_default_roles() {
    let app = spawn_app().await;
    let first = member(&app, "acme", "ann@example.com").await;
    let second = member(&app, "acme", "bob@example.com").await;
    let ann = claims(&first.access_token);
    let bob = claims(&second.access_token);
    assert_eq!(strings(&ann["roles"]), ["Admin"]);
    assert!(strings(&ann["permissions"]).contains(&"fe.secure.write.roles".to_owned()));
    assert_eq!(strings(&bob["roles"]), ["ReadOnly"]);
    let bob_permissions = strings(&bob["permissions"]);
    assert!(bob_permissions.contains(&"fe.secure.read.users".to_owned()));
    assert!(!bob_permissions.contains(&"fe.secure.write.roles".to_owned()));

    // ValidateToken checks roles and permissions as @frontegg/client does: at least one of each.
    let validate = |token: &str, any_of_roles: &[&str], any_of_permissions: &[&str]| {
        let request = pb::ValidateTokenRequest {
            access_token: token.to_owned(),
            any_of_roles: any_of_roles.iter().map(|s| s.to_string()).collect(),
            any_of_permissions: any_of_permissions.iter().map(|s| s.to_string()).collect(),
        };
        let mut client = app.tokens();
        async move { client.validate_token(request).await }
    };
    validate(
        &first.access_token,
        &["Admin", "Other"],
        &["fe.secure.write.roles"],
    )
    .await
    .unwrap();
    let status = validate(&second.access_token, &["Admin"], &[]).await.unwrap_err();
    assert_error(&status, Code::PermissionDenied, "MISSING_ROLE");
    let status = validate(&second.access_token, &[], &["fe.secure.write.roles"])
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "MISSING_PERMISSION");
}

#[tokio::test]
async fn a_change_of_roles_reaches_the_next_refresh() {
    let app = spawn_app().await;
    let session = member(&app, "acme", "ann@example.com").await;
    let mut client = roles(&app).await;
    let admin = client
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles
        .into_iter()
        .find(|r| r.key == "Admin")
        .unwrap();
    // The Admin role loses every permission: the next token of its holder carries none.
    client
        .set_role_permissions(pb::SetRolePermissionsRequest {
            role_id: admin.id.clone(),
            permission_ids: Vec::new(),
        })
        .await
        .unwrap();
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
    let after = claims(&refreshed.access_token);
    assert_eq!(strings(&after["roles"]), ["Admin"]);
    assert!(strings(&after["permissions"]).is_empty(), "{after}");

    // Deleted, the role is gone from the next token too.
    client
        .delete_role(pb::DeleteRoleRequest { role_id: admin.id })
        .await
        .unwrap();
    let refreshed = app
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: refreshed.refresh_token,
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    assert!(strings(&claims(&refreshed.access_token)["roles"]).is_empty());
}

#[tokio::test]
async fn a_tenant_admin_manages_its_tenants_own_roles_and_nothing_else() {
    let app = spawn_app().await;
    let ann = member(&app, "acme", "ann@example.com").await.access_token; // acme's admin
    let bob = member(&app, "acme", "bob@example.com").await.access_token; // read-only
    let zed = member(&app, "globex", "zed@example.com").await.access_token; // globex's admin
    let env = Api::environment(&app).await;
    let environment_role = ok(
        env.post(ROLES, json!([{"key": "auditor", "name": "Auditor", "level": 9}]))
            .await,
        StatusCode::CREATED,
    )
    .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Frontegg's SDK calls under /frontegg, with the user's token and no tenant header.
    let acme_admin = Api::bearer(&app, &ann);
    let created = ok(
        acme_admin
            .post(
                &format!("/frontegg{ROLES}"),
                json!([{"key": "acme-editor", "name": "Editor", "level": 4}]),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        created[0]["tenantId"], "acme",
        "a tenant admin's roles are its tenant's"
    );
    let acme_role = created[0]["id"].as_str().unwrap().to_owned();
    // A tenant header naming another tenant changes nothing for a user.
    let listed = ok(
        acme_admin
            .request(Method::GET, ROLES)
            .header("frontegg-tenant-id", "globex")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"acme-editor") && keys.contains(&"auditor") && keys.contains(&"Admin"));

    // globex's admin neither sees nor changes acme's role, and cannot tell it exists.
    let globex_admin = Api::bearer(&app, &zed);
    let listed = ok(globex_admin.get(ROLES).await, StatusCode::OK).await;
    assert!(!listed.to_string().contains("acme-editor"), "{listed}");
    for response in [
        globex_admin.delete(&format!("{ROLES}/{acme_role}")).await,
        globex_admin
            .request(Method::PATCH, &format!("{ROLES}/{acme_role}"))
            .json(&json!({"name": "Taken over"}))
            .send()
            .await
            .unwrap(),
        globex_admin
            .put(
                &format!("{ROLES}/{acme_role}/permissions"),
                json!({"permissionIds": []}),
            )
            .await,
        globex_admin.delete(&format!("{ROLES}/no-such-role")).await,
    ] {
        error(response, StatusCode::NOT_FOUND, "ROLE_NOT_FOUND").await;
    }
    // Nor does a tenant admin change the environment's roles.
    error(
        acme_admin.delete(&format!("{ROLES}/{environment_role}")).await,
        StatusCode::NOT_FOUND,
        "ROLE_NOT_FOUND",
    )
    .await;
    // Moving a role between tenants is the environment's alone.
    error(
        acme_admin
            .put(
                &format!("{ROLES}/{acme_role}/tenant"),
                json!({"tenantId": "globex"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "CALLER_NOT_ALLOWED",
    )
    .await;

    // A member without the permission is refused, and told which one it lacks.
    let read_only = Api::bearer(&app, &bob);
    ok(read_only.get(ROLES).await, StatusCode::OK).await;
    let body = error(
        read_only
            .post(ROLES, json!([{"key": "sneaky", "name": "Sneaky", "level": 1}]))
            .await,
        StatusCode::FORBIDDEN,
        "MISSING_PERMISSION",
    )
    .await;
    assert!(body.to_string().contains("fe.secure.write.roles"), "{body}");
    // Over gRPC the permission is named in the ErrorInfo.
    let mut bob_roles = RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&bob));
    let status = bob_roles
        .create_roles(pb::CreateRolesRequest {
            roles: vec![new_role("sneaky")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::PermissionDenied, "MISSING_PERMISSION");
    use tonic_types::StatusExt;
    let info = status.get_details_error_info().unwrap();
    assert_eq!(info.metadata["permission"], "fe.secure.write.roles");
    // acme's admin still can delete its own role.
    let deleted = acme_admin.delete(&format!("{ROLES}/{acme_role}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn permissions_and_categories_are_managed_and_built_ins_are_kept() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let category = ok(
        api.post(CATEGORIES, json!({"name": "Reports", "description": "Reporting"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    let category_id = category["id"].as_str().unwrap().to_owned();
    let created = ok(
        api.post(
            PERMISSIONS,
            json!([
                {"key": "reports.read", "name": "Read reports", "categoryId": category_id},
                {"key": "reports.write", "name": "Write reports", "assignmentType": "NEVER"},
            ]),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let read_id = created[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(created[0]["categoryId"], category_id.as_str());
    assert_eq!(created[1]["assignmentType"], "NEVER");
    // A key taken is a conflict; an unknown category is named; nothing is created.
    error(
        api.post(PERMISSIONS, json!([{"key": "reports.read", "name": "Again"}]))
            .await,
        StatusCode::CONFLICT,
        "PERMISSION_ALREADY_EXISTS",
    )
    .await;
    let body = error(
        api.post(
            PERMISSIONS,
            json!([{"key": "reports.other", "name": "Other", "categoryId": "no-such-category"}]),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    assert!(body.to_string().contains("no-such-category"), "{body}");

    // Added to a role, then deleted: the role no longer lists it.
    let role = ok(
        api.post(
            ROLES,
            json!([{"key": "reporter", "name": "Reporter", "level": 7}]),
        )
        .await,
        StatusCode::CREATED,
    )
    .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let granted = ok(
        api.put(
            &format!("{PERMISSIONS}/{read_id}/roles"),
            json!({"roleIds": [role]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(granted["roleIds"], json!([role]));
    error(
        api.put(
            &format!("{PERMISSIONS}/{read_id}/roles"),
            json!({"roleIds": ["ghost"]}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    let classified = ok(
        api.put(
            &format!("{PERMISSIONS}/classification"),
            json!({"permissionIds": [read_id], "type": "ALWAYS"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(classified[0]["assignmentType"], "ALWAYS");
    let renamed = ok(
        api.request(Method::PATCH, &format!("{PERMISSIONS}/{read_id}"))
            .json(&json!({"name": "Read every report"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Read every report");
    let deleted = api.delete(&format!("{PERMISSIONS}/{read_id}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let roles = ok(api.get(ROLES).await, StatusCode::OK).await;
    let reporter = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == role.as_str())
        .unwrap();
    assert_eq!(reporter["permissions"], json!([]));

    // Categories: renamed, deleted; a built-in one stays.
    let renamed = ok(
        api.request(Method::PATCH, &format!("{CATEGORIES}/{category_id}"))
            .json(&json!({"name": "Reporting"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(renamed["name"], "Reporting");
    ok(
        api.delete(&format!("{CATEGORIES}/{category_id}")).await,
        StatusCode::OK,
    )
    .await;
    let categories = ok(api.get(CATEGORIES).await, StatusCode::OK).await;
    let built_in = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["feCategory"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    error(
        api.delete(&format!("{CATEGORIES}/{built_in}")).await,
        StatusCode::BAD_REQUEST,
        "BUILT_IN_CATEGORY",
    )
    .await;
    // The same refusals over gRPC.
    let mut client = permissions(&app).await;
    let status = client
        .delete_permission_category(pb::DeletePermissionCategoryRequest {
            category_id: built_in,
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "BUILT_IN_CATEGORY");
    let status = client
        .delete_permission(pb::DeletePermissionRequest {
            permission_id: read_id,
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "PERMISSION_NOT_FOUND");
}

#[tokio::test]
async fn the_paged_listing_filters_sorts_and_pages_and_v2_creates_from_a_base_role() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await;
    let mut client = roles(&app).await;
    let mut batch = Vec::new();
    for i in 0..7 {
        batch.push(pb::NewRole {
            level: i % 3 + 10,
            ..new_role(&format!("paged-{i}"))
        });
    }
    client
        .create_roles(pb::CreateRolesRequest {
            roles: batch,
            ..Default::default()
        })
        .await
        .unwrap();
    client
        .create_roles(pb::CreateRolesRequest {
            tenant_id: "acme".into(),
            roles: vec![new_role("acme-only")],
        })
        .await
        .unwrap();

    let page = |offset: i32| pb::ListRolesPagedRequest {
        limit: 3,
        offset,
        filter: "PAGED".into(),
        sort_by: pb::RoleSortBy::Key.into(),
        order: pb::SortOrder::Desc.into(),
        ..Default::default()
    };
    let first = client.list_roles_paged(page(0)).await.unwrap().into_inner();
    assert_eq!((first.total_items, first.total_pages), (7, 3));
    assert_eq!(keys(&first.roles), ["paged-4", "paged-5", "paged-6"]);
    let last = client.list_roles_paged(page(6)).await.unwrap().into_inner();
    assert_eq!(keys(&last.roles), ["paged-0"]);
    let by_level = client
        .list_roles_paged(pb::ListRolesPagedRequest {
            levels: vec![11],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys(&by_level.roles), ["paged-1", "paged-4"]);
    let of_acme = client
        .list_roles_paged(pb::ListRolesPagedRequest {
            tenant_ids: vec!["acme".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(keys(&of_acme.roles), ["acme-only"]);
    let status = client
        .list_roles_paged(pb::ListRolesPagedRequest {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    let levels = client
        .list_role_levels(pb::ListRoleLevelsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .levels;
    assert!(levels.windows(2).all(|w| w[0] < w[1]), "{levels:?}");
    assert!([10, 11, 12].iter().all(|l| levels.contains(l)));
    let tenants = client
        .list_role_tenants(pb::ListRoleTenantsRequest {})
        .await
        .unwrap()
        .into_inner()
        .tenant_ids;
    assert_eq!(tenants, ["acme"]);

    // v2 creation: the base role's level, the permissions given; an unknown base is named.
    let base = first.roles[0].clone();
    let all = permissions(&app)
        .await
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .permissions;
    let read_users = all
        .iter()
        .find(|p| p.key == "fe.secure.read.users")
        .unwrap()
        .id
        .clone();
    let made = client
        .create_role_from_base(pb::CreateRoleFromBaseRequest {
            key: "derived".into(),
            name: "Derived".into(),
            base_role_id: base.id.clone(),
            permission_ids: vec![read_users.clone()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .role
        .unwrap();
    assert_eq!(made.level, base.level);
    assert_eq!(made.permission_ids, [read_users]);
    let status = client
        .create_role_from_base(pb::CreateRoleFromBaseRequest {
            key: "orphan".into(),
            name: "Orphan".into(),
            base_role_id: "no-such-role".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("no-such-role"));

    // Over REST, with the contract's parameters and wrapper.
    let api = Api::environment(&app).await;
    let page = ok(
        api.get("/identity/resources/roles/v2?_limit=3&_offset=2&_filter=paged&_sortBy=key&_order=DESC")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["_metadata"]["totalItems"], 7);
    assert_eq!(page["items"][0]["key"], "paged-0");
    error(
        api.get("/identity/resources/roles/v2?_sortBy=nonsense").await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    let levels = ok(
        api.get("/identity/resources/roles/v2/distinct-levels").await,
        StatusCode::OK,
    )
    .await;
    assert!(levels.as_array().unwrap().contains(&json!(10)));
    let tenants = ok(
        api.get("/identity/resources/roles/v2/distinct-tenants").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(tenants, json!(["acme"]));
    let created = ok(
        api.post(
            "/identity/resources/roles/v2",
            json!({"key": "rest-derived", "name": "Derived", "baseRoleId": base.id, "permissionIds": []}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(created["level"], base.level);

    // A tenant admin's paged listing shows its tenant's view, whatever tenants it names.
    let ann = app.login("ann@example.com", PASSWORD).await.access_token;
    let zed = member(&app, "globex", "zed@example.com").await.access_token;
    let globex = ok(
        Api::bearer(&app, &zed)
            .get("/identity/resources/roles/v2?_tenantIds=acme&_limit=200")
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(!globex.to_string().contains("acme-only"), "{globex}");
    let acme = ok(
        Api::bearer(&app, &ann)
            .get("/identity/resources/roles/v2?_limit=200")
            .await,
        StatusCode::OK,
    )
    .await;
    assert!(acme.to_string().contains("acme-only"));
}

/// The id of role `key`.
async fn role_id(app: &TestApp, key: &str) -> String {
    roles(app)
        .await
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .roles
        .into_iter()
        .find(|r| r.key == key)
        .unwrap_or_else(|| panic!("no role {key}"))
        .id
}

#[tokio::test]
async fn members_are_given_and_taken_roles_and_read_them_back() {
    let app = spawn_app().await;
    member(&app, "acme", "ann@example.com").await;
    let bob = member(&app, "acme", "bob@example.com").await;
    member(&app, "globex", "zed@example.com").await;
    let bob_id = bob.user_id.clone();
    let admin = role_id(&app, "Admin").await;
    let mut client = roles(&app).await;

    let given = client
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: bob_id.clone(),
            tenant_id: "acme".into(),
            role_ids: vec![admin.clone(), admin.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert_eq!(keys(&given), ["Admin", "ReadOnly"]);
    // Unknown roles are named and nothing is given; a non-member is not found.
    let status = client
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: bob_id.clone(),
            tenant_id: "acme".into(),
            role_ids: vec!["ghost-role".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("ghost-role"));
    let status = client
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: bob_id.clone(),
            tenant_id: "globex".into(),
            role_ids: vec![admin.clone()],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = client
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: bob_id.clone(),
            tenant_id: String::new(),
            role_ids: vec![admin.clone()],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // A role of another tenant cannot be given here.
    let globex_role = client
        .create_roles(pb::CreateRolesRequest {
            tenant_id: "globex".into(),
            roles: vec![new_role("globex-only")],
        })
        .await
        .unwrap()
        .into_inner()
        .roles
        .remove(0);
    let status = client
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: bob_id.clone(),
            tenant_id: "acme".into(),
            role_ids: vec![globex_role.id],
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // The next refresh carries the new role.
    let refreshed = app
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: bob.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();
    assert_eq!(
        strings(&claims(&refreshed.access_token)["roles"]),
        ["Admin", "ReadOnly"]
    );

    let listed = client
        .list_users_roles(pb::ListUsersRolesRequest {
            tenant_id: "acme".into(),
            user_ids: vec![bob_id.clone(), "not-a-member".into()],
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(listed.len(), 1);
    assert_eq!(keys(&listed[0].roles), ["Admin", "ReadOnly"]);

    let left = client
        .unassign_user_roles(pb::UnassignUserRolesRequest {
            user_id: bob_id.clone(),
            tenant_id: "acme".into(),
            role_ids: vec![admin.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert_eq!(keys(&left), ["ReadOnly"]);

    // Over REST, with the contract's header and statuses.
    let api = Api::environment(&app).await;
    let path = format!("/identity/resources/users/v1/{bob_id}/roles");
    let given = ok(
        api.request(Method::POST, &path)
            .header("frontegg-tenant-id", "acme")
            .json(&json!({"roleIds": [admin]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        (given["userId"].as_str(), given["tenantId"].as_str()),
        (Some(bob_id.as_str()), Some("acme"))
    );
    error(
        api.post(&path, json!({"roleIds": [admin]})).await,
        StatusCode::BAD_REQUEST,
        "INVALID_ARGUMENT",
    )
    .await;
    let read = ok(
        api.request(
            Method::GET,
            &format!("/identity/resources/users/v3/roles?ids={bob_id}"),
        )
        .header("frontegg-tenant-id", "acme")
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read[0]["userId"], bob_id.as_str());
    assert_eq!(read[0]["roles"].as_array().unwrap().len(), 2);
    // Listings and reads of users show the roles they hold in the tenant asked about.
    let listed = ok(
        api.get("/identity/resources/users/v3?_tenantId=acme").await,
        StatusCode::OK,
    )
    .await;
    let bob_item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == bob_id.as_str())
        .unwrap()
        .clone();
    let held: Vec<&str> = bob_item["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(held, ["Admin", "ReadOnly"]);
    let fetched = ok(
        api.request(Method::GET, &format!("/identity/resources/users/v1/{bob_id}"))
            .header("frontegg-tenant-id", "acme")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        fetched["permissions"]
            .to_string()
            .contains("fe.secure.write.roles"),
        "{fetched}"
    );
    let taken = ok(
        api.request(Method::DELETE, &path)
            .header("frontegg-tenant-id", "acme")
            .json(&json!({"roleIds": [admin]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(taken["roles"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_tenant_admin_hands_out_roles_in_its_tenant_only_and_never_above_its_own_level() {
    let app = spawn_app().await;
    let ann = member(&app, "acme", "ann@example.com").await; // acme's admin
    let bob = member(&app, "acme", "bob@example.com").await; // read-only
    let carl = member(&app, "acme", "carl@example.com").await;
    let zed = member(&app, "globex", "zed@example.com").await; // globex's admin
    let mut client = roles(&app).await;
    let all = permissions(&app)
        .await
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .permissions;
    let id_of = |key: &str| all.iter().find(|p| p.key == key).unwrap().id.clone();
    // A manager (level 10) may hand out roles; Admin is level 0, the strongest.
    let created = client
        .create_roles(pb::CreateRolesRequest {
            roles: vec![
                pb::NewRole {
                    level: 10,
                    ..new_role("manager")
                },
                pb::NewRole {
                    level: 20,
                    ..new_role("viewer")
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    let manager = created.iter().find(|r| r.key == "manager").unwrap().clone();
    let viewer = created.iter().find(|r| r.key == "viewer").unwrap().clone();
    client
        .set_role_permissions(pb::SetRolePermissionsRequest {
            role_id: manager.id.clone(),
            permission_ids: vec![id_of("fe.secure.write.usersRoles"), id_of("fe.secure.read.users")],
        })
        .await
        .unwrap();
    client
        .assign_user_roles(pb::AssignUserRolesRequest {
            user_id: carl.user_id.clone(),
            tenant_id: "acme".into(),
            role_ids: vec![manager.id.clone()],
        })
        .await
        .unwrap();
    let carl_token = app.login("carl@example.com", PASSWORD).await.access_token;
    let admin = role_id(&app, "Admin").await;
    let bob_roles = format!("/frontegg/identity/resources/users/v1/{}/roles", bob.user_id);
    let as_manager = Api::bearer(&app, &carl_token);
    error(
        as_manager.post(&bob_roles, json!({"roleIds": [admin]})).await,
        StatusCode::FORBIDDEN,
        "ROLE_LEVEL_TOO_HIGH",
    )
    .await;
    // Not even to itself.
    error(
        as_manager
            .post(
                &format!("/identity/resources/users/v1/{}/roles", carl.user_id),
                json!({"roleIds": [admin]}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "ROLE_LEVEL_TOO_HIGH",
    )
    .await;
    let given = ok(
        as_manager.post(&bob_roles, json!({"roleIds": [viewer.id]})).await,
        StatusCode::CREATED,
    )
    .await;
    assert!(given.to_string().contains("viewer"));

    // The tenant is the session's: no header needed, and another tenant's header changes nothing.
    let acme_admin = Api::bearer(&app, &ann.access_token);
    let given = ok(
        acme_admin
            .request(Method::POST, &bob_roles)
            .header("frontegg-tenant-id", "globex")
            .json(&json!({"roleIds": [admin]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(given["tenantId"], "acme");
    // globex's admin cannot touch acme's members: they are not members of its tenant.
    error(
        Api::bearer(&app, &zed.access_token)
            .post(&bob_roles, json!({"roleIds": [admin]}))
            .await,
        StatusCode::NOT_FOUND,
        "MEMBERSHIP_NOT_FOUND",
    )
    .await;
    // A read-only member may not hand out roles.
    let body = error(
        Api::bearer(&app, &bob.access_token)
            .post(
                &format!("/identity/resources/users/v1/{}/roles", ann.user_id),
                json!({"roleIds": [admin]}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "MISSING_PERMISSION",
    )
    .await;
    assert!(body.to_string().contains("fe.secure.write.usersRoles"), "{body}");

    // Each user reads its own authorization as it is now.
    let mine = ok(
        Api::bearer(&app, &bob.access_token)
            .get("/identity/resources/users/v1/me/authorization")
            .await,
        StatusCode::OK,
    )
    .await;
    let role_keys: Vec<&str> = mine["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(
        role_keys.contains(&"Admin") && role_keys.contains(&"ReadOnly"),
        "{mine}"
    );
    assert!(mine["permissions"].to_string().contains("fe.secure.write.roles"));
    let over_grpc = sigil::transport::grpc::pb::me_service_client::MeServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&zed.access_token),
    )
    .get_my_authorization(pb::GetMyAuthorizationRequest {})
    .await
    .unwrap()
    .into_inner();
    assert_eq!(keys(&over_grpc.roles), ["Admin"]);
    assert!(
        over_grpc
            .permissions
            .iter()
            .any(|p| p.key == "fe.secure.read.users")
    );
}

#[tokio::test]
async fn every_sort_of_the_paged_listing_orders_in_sql_as_documented() {
    let app = spawn_app().await;
    let ann = member(&app, "acme", "ann@example.com").await;
    let bob = member(&app, "acme", "bob@example.com").await;
    let mut client = roles(&app).await;
    // Keys, names and descriptions whose byte order and folded order differ.
    let specs = [
        ("sort-c", "Émile", "", 3),
        ("sort-a", "bob", "Zeta", 1),
        ("sort-B", "Alice", "alpha 100%", 2),
    ];
    let created = client
        .create_roles(pb::CreateRolesRequest {
            roles: specs
                .iter()
                .map(|(key, name, description, level)| pb::NewRole {
                    key: (*key).into(),
                    name: (*name).into(),
                    description: (*description).into(),
                    level: *level,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .roles;
    let id = |key: &str| created.iter().find(|r| r.key == key).unwrap().id.clone();
    let all = permissions(&app)
        .await
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .permissions;
    // Permissions: sort-a 2, sort-c 1, sort-B none. Members: sort-B 2, sort-a 1, sort-c none.
    for (key, count) in [("sort-a", 2), ("sort-c", 1)] {
        client
            .set_role_permissions(pb::SetRolePermissionsRequest {
                role_id: id(key),
                permission_ids: all.iter().take(count).map(|p| p.id.clone()).collect(),
            })
            .await
            .unwrap();
    }
    for (user, keys) in [(&ann, vec!["sort-B", "sort-a"]), (&bob, vec!["sort-B"])] {
        client
            .assign_user_roles(pb::AssignUserRolesRequest {
                user_id: user.user_id.clone(),
                tenant_id: "acme".into(),
                role_ids: keys.iter().map(|k| id(k)).collect(),
            })
            .await
            .unwrap();
    }

    let listed = |sort_by: pb::RoleSortBy, order: pb::SortOrder, filter: &str| {
        let mut client = client.clone();
        let filter = filter.to_owned();
        async move {
            let page = client
                .list_roles_paged(pb::ListRolesPagedRequest {
                    filter,
                    sort_by: sort_by.into(),
                    order: order.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            page.roles.into_iter().map(|r| r.key).collect::<Vec<_>>()
        }
    };
    use pb::{RoleSortBy as By, SortOrder::*};
    for (sort_by, ascending) in [
        (By::CreatedAt, ["sort-c", "sort-a", "sort-B"]),
        (By::Key, ["sort-B", "sort-a", "sort-c"]),
        (By::Name, ["sort-B", "sort-a", "sort-c"]),
        (By::Description, ["sort-c", "sort-B", "sort-a"]),
        (By::Level, ["sort-a", "sort-B", "sort-c"]),
        (By::Permissions, ["sort-B", "sort-c", "sort-a"]),
        (By::UserTenants, ["sort-c", "sort-a", "sort-B"]),
    ] {
        if sort_by == By::CreatedAt {
            // Created in one transaction: the same instant, so the id decides; check only that
            // both directions are each other's reverse.
            let up = listed(sort_by, Asc, "sort-").await;
            let mut down = listed(sort_by, Desc, "sort-").await;
            down.reverse();
            assert_eq!(up, down);
            continue;
        }
        assert_eq!(listed(sort_by, Asc, "sort-").await, ascending, "{sort_by:?}");
        let mut descending = ascending.to_vec();
        descending.reverse();
        assert_eq!(
            listed(sort_by, Desc, "sort-").await,
            descending,
            "{sort_by:?} descending"
        );
    }
    // The permission counts follow every write, the cascade of a deleted permission too:
    // sort-B gets two permissions of its own and two shared, sort-a three, then both of
    // sort-B's own permissions are deleted (sort-B 2, sort-a 3, sort-c 1).
    let mut catalog = permissions(&app).await;
    let own = catalog
        .create_permissions(pb::CreatePermissionsRequest {
            permissions: ["sort.own.one", "sort.own.two"]
                .into_iter()
                .map(|key| pb::NewPermission {
                    key: key.into(),
                    name: key.into(),
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .unwrap()
        .into_inner()
        .permissions;
    let holding = |extra: &[pb::Permission], shared: usize| {
        extra
            .iter()
            .chain(all.iter().take(shared))
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    for (key, permission_ids) in [("sort-B", holding(&own, 2)), ("sort-a", holding(&[], 3))] {
        client
            .clone()
            .set_role_permissions(pb::SetRolePermissionsRequest {
                role_id: id(key),
                permission_ids,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        listed(By::Permissions, Asc, "sort-").await,
        ["sort-c", "sort-a", "sort-B"]
    );
    for permission in &own {
        catalog
            .delete_permission(pb::DeletePermissionRequest {
                permission_id: permission.id.clone(),
            })
            .await
            .unwrap();
    }
    assert_eq!(
        listed(By::Permissions, Asc, "sort-").await,
        ["sort-c", "sort-B", "sort-a"]
    );
    // The text is matched in the folded key, name and description; `%` and `_` are plain.
    assert_eq!(listed(By::Key, Asc, "ÉMILE").await, ["sort-c"]);
    assert_eq!(listed(By::Key, Asc, "100%").await, ["sort-B"]);
    assert!(listed(By::Key, Asc, "sort_").await.is_empty());
    assert_eq!(listed(By::Key, Asc, "zeta").await, ["sort-a"]);
}

#[tokio::test]
async fn of_members_joining_a_new_tenant_at_once_one_alone_becomes_its_admin() {
    let app = spawn_app().await;
    let (mut tenants, users) = app.clients().await;
    tenants.create_tenant(tenant("rush", "Rush")).await.unwrap();
    let mut joining = tokio::task::JoinSet::new();
    for i in 0..8 {
        let mut users = users.clone();
        joining.spawn(async move {
            users
                .create_user(invitee("rush", &format!("user{i}@example.com")))
                .await
                .unwrap()
                .into_inner()
                .user
                .unwrap()
                .id
        });
    }
    let mut ids = Vec::new();
    while let Some(id) = joining.join_next().await {
        ids.push(id.unwrap());
    }
    let held = roles(&app)
        .await
        .list_users_roles(pb::ListUsersRolesRequest {
            tenant_id: "rush".into(),
            user_ids: ids,
        })
        .await
        .unwrap()
        .into_inner()
        .users;
    let admins = held
        .iter()
        .filter(|u| u.roles.iter().any(|r| r.key == "Admin"))
        .count();
    assert_eq!(admins, 1, "{held:?}");
}

//! A tenant's team as its members manage it, at the admin portal's paths (`/team/resources/...`)
//! and over gRPC: listing with paging, search and order; roles set within the caller's reach;
//! members removed; the roles the tenant sees and the team's totals. Confined to the caller's
//! tenant, and never telling whether a user exists elsewhere.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::Code;

use sigil::transport::grpc::pb::{
    self, permission_service_client::PermissionServiceClient, role_service_client::RoleServiceClient,
    team_service_client::TeamServiceClient,
};

use crate::{
    helpers::{Bearer, TestApp, assert_error, assert_invalid, spawn_app},
    http::{Api, error, invalid, ok},
    user_flags::{claims, member},
};

const PASSWORD: &str = "correct horse battery";
const MEMBERS: &str = "/team/resources/members/v1";

type Intercepted = tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>;

async fn roles(app: &TestApp) -> RoleServiceClient<Intercepted> {
    RoleServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&app.env_token().await))
}

/// Creates a role at `level`, of `tenant_id` when not empty, with the permissions of `keys`.
async fn role(app: &TestApp, tenant_id: &str, key: &str, level: i32, keys: &[&str]) -> String {
    let mut client = roles(app).await;
    let id = client
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
        .id;
    if !keys.is_empty() {
        let all = PermissionServiceClient::with_interceptor(
            app.channel.clone(),
            Bearer::token(&app.env_token().await),
        )
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .permissions;
        let ids = all
            .into_iter()
            .filter(|p| keys.contains(&p.key.as_str()))
            .map(|p| p.id)
            .collect();
        client
            .set_role_permissions(pb::SetRolePermissionsRequest {
                role_id: id.clone(),
                permission_ids: ids,
            })
            .await
            .unwrap();
    }
    id
}

fn emails(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect()
}

fn role_keys(member: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = member["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    keys
}

/// acme: Ann (Admin), Bob and Cat (ReadOnly); globex: Dan (Admin). Ann's token, and the ids.
async fn team(app: &TestApp) -> (String, [String; 4]) {
    let ann = member(app, "acme", "ann@acme.test").await;
    let bob = member(app, "acme", "bob@acme.test").await;
    let cat = member(app, "acme", "cat@acme.test").await;
    let dan = member(app, "globex", "dan@globex.test").await;
    let token = app.login("ann@acme.test", PASSWORD).await.access_token;
    (token, [ann, bob, cat, dan])
}

#[tokio::test]
async fn a_member_lists_its_tenants_team_a_page_at_a_time() {
    let app = spawn_app().await;
    let (token, [_, bob, cat, _]) = team(&app).await;
    let me = Api::bearer(&app, &token);
    // Users made at one instant of the test clock come in the order of their ids: sorted by email.
    let page = ok(me.get(&format!("{MEMBERS}?sortBy=email")).await, StatusCode::OK).await;
    assert_eq!(emails(&page), ["ann@acme.test", "bob@acme.test", "cat@acme.test"]);
    assert_eq!((&page["totalItems"], &page["totalPages"]), (&json!(3), &json!(1)));
    let ann = &page["items"][0];
    assert_eq!(role_keys(ann), ["Admin"]);
    assert_eq!(ann["tenantId"], "acme");
    assert_eq!(ann["roleIds"][0], ann["roles"][0]["id"]);

    let page = ok(
        me.get(&format!("{MEMBERS}?pageSize=2&pageOffset=1&sortBy=email"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&page), ["cat@acme.test"]);
    assert_eq!((&page["totalItems"], &page["totalPages"]), (&json!(3), &json!(2)));
    let page = ok(
        me.get(&format!("{MEMBERS}?searchFilter=BOB")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&page), ["bob@acme.test"]);
    let page = ok(
        me.get(&format!(
            "{MEMBERS}?sortBy=email&sortDirection=desc&pageSize=20&pageOffset=0"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emails(&page), ["cat@acme.test", "bob@acme.test", "ann@acme.test"]);
    for (query, field) in [
        ("pageSize=500", "pageSize"),
        ("pageOffset=-1", "pageOffset"),
        ("sortBy=colour", "sortBy"),
        ("sortDirection=sideways", "sortDirection"),
    ] {
        invalid(me.get(&format!("{MEMBERS}?{query}")).await, field).await;
    }

    // Invisible members are left out, of the totals too.
    let (_, mut users) = app.clients().await;
    users
        .set_user_invisible(pb::SetUserInvisibleRequest {
            user_id: cat.clone(),
            invisible: true,
        })
        .await
        .unwrap();
    users
        .set_user_super_user(pb::SetUserSuperUserRequest {
            user_id: bob.clone(),
            super_user: true,
        })
        .await
        .unwrap();
    let page = ok(me.get(&format!("{MEMBERS}?sortBy=email")).await, StatusCode::OK).await;
    assert_eq!(emails(&page), ["ann@acme.test", "bob@acme.test"]);
    let stats = ok(me.get("/team/resources/stats/v1/members").await, StatusCode::OK).await;
    assert_eq!(
        stats,
        json!({"totalItems": 2, "addedThisWeek": 2, "superAdmins": 1})
    );
    app.clock.advance(std::time::Duration::from_secs(8 * 24 * 3600));
    let fresh = app.login("ann@acme.test", PASSWORD).await.access_token;
    let stats = ok(
        Api::bearer(&app, &fresh)
            .get("/team/resources/stats/v1/members")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["addedThisWeek"], 0);

    // Over gRPC, the same.
    let mut grpc = TeamServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&fresh));
    let listed = grpc
        .list_team_members(pb::ListTeamMembersRequest {
            page_size: 1,
            sort_by: pb::UserSortBy::Email.into(),
            order: pb::SortOrder::Desc.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.metadata.unwrap().total_items, 2);
    assert_eq!(listed.items[0].user.as_ref().unwrap().email, "bob@acme.test");
    let status = grpc
        .list_team_members(pb::ListTeamMembersRequest {
            page_size: 201,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "page_size");
    let stats = grpc
        .get_team_stats(pb::GetTeamStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stats.total_items, stats.super_admins), (2, 1));
}

#[tokio::test]
async fn a_member_sets_roles_and_removes_members_within_its_reach_and_its_tenant() {
    let app = spawn_app().await;
    let (token, [ann, bob, cat, dan]) = team(&app).await;
    let viewer = role(&app, "", "viewer", 3, &[]).await;
    let acme_own = role(&app, "acme", "acme-auditor", 4, &[]).await;
    let globex_own = role(&app, "globex", "globex-auditor", 4, &[]).await;
    let me = Api::bearer(&app, &token);

    // The roles the tenant sees: the environment's and its own, not another tenant's.
    let listed = ok(me.get("/team/resources/roles/v1").await, StatusCode::OK).await;
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"viewer") && keys.contains(&"acme-auditor"),
        "{keys:?}"
    );
    assert!(!keys.contains(&"globex-auditor"), "{keys:?}");
    let admin = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "Admin")
        .unwrap();
    assert_eq!(
        (&admin["permissionLevel"], &admin["level"]),
        (&json!(0), &json!(0))
    );

    // Setting roles replaces them; `[""]` takes them all, as the admin portal sends it.
    let updated = ok(
        me.put(
            MEMBERS,
            json!({"id": bob, "roleIds": [viewer, acme_own], "name": "ignored"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(role_keys(&updated["item"]), ["acme-auditor", "viewer"]);
    let bob_session = app.login("bob@acme.test", PASSWORD).await;
    let mut held = claims(&bob_session.access_token)["roles"]
        .as_array()
        .unwrap()
        .clone();
    held.sort_by_key(|v| v.as_str().unwrap().to_owned());
    assert_eq!(held, [json!("acme-auditor"), json!("viewer")]);
    let updated = ok(
        me.put(MEMBERS, json!({"id": bob, "roleIds": [""]})).await,
        StatusCode::OK,
    )
    .await;
    assert!(role_keys(&updated["item"]).is_empty());
    let unchanged = ok(me.put(MEMBERS, json!({"id": bob})).await, StatusCode::OK).await;
    assert!(role_keys(&unchanged["item"]).is_empty());

    // Unknown roles and another tenant's are alike unknown, and nothing changes.
    for role_ids in [json!(["ghost"]), json!([viewer, globex_own])] {
        let response = me.put(MEMBERS, json!({"id": cat, "roleIds": role_ids})).await;
        invalid(response, "roleIds").await;
    }
    let cat_now = ok(me.put(MEMBERS, json!({"id": cat})).await, StatusCode::OK).await;
    assert_eq!(role_keys(&cat_now["item"]), ["ReadOnly"]);
    // A member of another tenant and a user that does not exist are alike not found.
    for id in [dan.as_str(), "nobody"] {
        let response = me.put(MEMBERS, json!({"id": id, "roleIds": [viewer]})).await;
        error(response, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
        let response = me.delete(&format!("{MEMBERS}/{id}")).await;
        error(response, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;
    }
    for body in [json!({}), json!({"id": 7}), json!({"id": bob, "roleIds": "x"})] {
        assert_eq!(me.put(MEMBERS, body).await.status(), StatusCode::BAD_REQUEST);
    }

    // Bob, made a manager at level 1, reaches level 1 and weaker only.
    let manager = role(
        &app,
        "",
        "manager",
        1,
        &[
            "fe.secure.read.users",
            "fe.secure.write.usersRoles",
            "fe.secure.delete.users",
            "fe.secure.read.roles",
        ],
    )
    .await;
    ok(
        me.put(MEMBERS, json!({"id": bob, "roleIds": [manager]})).await,
        StatusCode::OK,
    )
    .await;
    let bob_token = app.login("bob@acme.test", PASSWORD).await.access_token;
    let bob_api = Api::bearer(&app, &bob_token);
    let admin_id = admin["id"].as_str().unwrap();
    let response = bob_api
        .put(MEMBERS, json!({"id": cat, "roleIds": [admin_id]}))
        .await;
    error(response, StatusCode::FORBIDDEN, "ROLE_LEVEL_TOO_HIGH").await;
    let response = bob_api
        .put(MEMBERS, json!({"id": ann, "roleIds": [viewer]}))
        .await;
    error(response, StatusCode::FORBIDDEN, "ROLE_LEVEL_TOO_HIGH").await;
    let response = bob_api.delete(&format!("{MEMBERS}/{ann}")).await;
    error(response, StatusCode::FORBIDDEN, "ROLE_LEVEL_TOO_HIGH").await;
    let updated = ok(
        bob_api
            .put(MEMBERS, json!({"id": cat, "roleIds": [viewer]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(role_keys(&updated["item"]), ["viewer"]);
    // Without the permission, the policy layer refuses.
    let cat_token = app.login("cat@acme.test", PASSWORD).await;
    let cat_api = Api::bearer(&app, &cat_token.access_token);
    let response = cat_api.get(MEMBERS).await;
    error(response, StatusCode::FORBIDDEN, "MISSING_PERMISSION").await;

    // Removing a member ends its membership and its sessions.
    ok(bob_api.delete(&format!("{MEMBERS}/{cat}")).await, StatusCode::OK).await;
    let status = app.validate(&cat_token.access_token).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let page = ok(me.get(&format!("{MEMBERS}?sortBy=email")).await, StatusCode::OK).await;
    assert_eq!(emails(&page), ["ann@acme.test", "bob@acme.test"]);
    let response = me.delete(&format!("{MEMBERS}/{cat}")).await;
    error(response, StatusCode::NOT_FOUND, "USER_NOT_FOUND").await;

    // Over gRPC.
    let mut grpc = TeamServiceClient::with_interceptor(app.channel.clone(), Bearer::token(&token));
    let member = grpc
        .set_team_member_roles(pb::SetTeamMemberRolesRequest {
            user_id: bob.clone(),
            role_ids: vec![viewer.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(
        member.roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["viewer"]
    );
    let status = grpc
        .set_team_member_roles(pb::SetTeamMemberRolesRequest {
            user_id: dan.clone(),
            role_ids: vec![],
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    let roles = grpc
        .list_team_roles(pb::ListTeamRolesRequest {})
        .await
        .unwrap()
        .into_inner()
        .roles;
    assert!(roles.iter().all(|r| r.id != globex_own));
    grpc.remove_team_member(pb::RemoveTeamMemberRequest { user_id: bob.clone() })
        .await
        .unwrap();
    let status = grpc
        .remove_team_member(pb::RemoveTeamMemberRequest { user_id: bob.clone() })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    // An environment token is no team member.
    let api = Api::environment(&app).await;
    let response = api.request(Method::GET, MEMBERS).send().await.unwrap();
    error(response, StatusCode::FORBIDDEN, "CALLER_NOT_ALLOWED").await;
}

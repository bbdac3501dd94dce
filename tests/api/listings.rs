//! Listings give the same order and the same matches on SQLite and PostgreSQL: names are folded
//! to lower case by sigil (SQLite's `lower()` folds ASCII only), NULL sort keys have one place,
//! text compares byte by byte whatever PostgreSQL's locale, and ties break on the id.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sigil::transport::grpc::pb;

use crate::{
    helpers::spawn_app,
    http::{Api, ok},
};

const USERS_V3: &str = "/identity/resources/users/v3";
const PHRASE: &str = "/identity/resources/users/v1/query/phrase";

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A user created for these tests: its id, name and (once set) current tenant.
struct Made {
    id: String,
    name: Option<&'static str>,
    tenant: Option<&'static str>,
}

/// Ids of `users` in the order of `key`, ties broken by id; reversed for a descending order.
fn expected<K: Ord>(users: &[Made], key: impl Fn(&Made) -> K, descending: bool) -> Vec<String> {
    let mut sorted: Vec<&Made> = users.iter().collect();
    sorted.sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id)));
    if descending {
        sorted.reverse();
    }
    sorted.into_iter().map(|u| u.id.clone()).collect()
}

#[tokio::test]
async fn users_sort_and_match_the_same_on_every_database() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let (_, mut grpc_users) = app.clients().await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("ärzte", "Ärzte").await;
    let mut users = Vec::new();
    for (tenant, email, name) in [
        ("acme", "emile.upper@example.com", Some("ÉMILE")),
        ("ärzte", "emile.lower@example.com", Some("émile")),
        ("acme", "zoe@example.com", Some("Zoë")),
        ("ärzte", "adam@example.com", Some("adam")),
        ("acme", "nobody@example.com", None),
        ("acme", "Ölaf@Exämple.com", Some("Ölaf")),
        ("acme", "left@example.com", Some("Left")),
    ] {
        let mut body = json!({"tenantId": tenant, "email": email});
        if let Some(name) = name {
            body["name"] = json!(name);
        }
        let created = ok(
            api.post("/identity/resources/vendor-only/users/v1", body).await,
            StatusCode::CREATED,
        )
        .await;
        users.push(Made {
            id: created["id"].as_str().unwrap().to_owned(),
            name,
            tenant: Some(tenant),
        });
    }
    // The last user leaves its only tenant: it has no current tenant, a NULL sort key.
    let left = users.last_mut().unwrap();
    grpc_users
        .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
            user_id: left.id.clone(),
            tenant_id: "acme".into(),
        })
        .await
        .unwrap();
    left.tenant = None;

    // By name: folded to lower case, no name sorting as the smallest; "ÉMILE" and "émile" tie.
    let name_key = |u: &Made| u.name.map(str::to_lowercase).unwrap_or_default();
    for (order, descending) in [("ASC", false), ("DESC", true)] {
        let page = ok(
            api.get(&format!("{USERS_V3}?_sortBy=name&_order={order}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            ids(&page),
            expected(&users, name_key, descending),
            "by name {order}"
        );
    }
    // By current tenant: users without one first when ascending, last when descending.
    let tenant_key = |u: &Made| u.tenant;
    for (order, descending) in [("ASC", false), ("DESC", true)] {
        let page = ok(
            api.get(&format!("{USERS_V3}?_sortBy=tenantId&_order={order}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            ids(&page),
            expected(&users, tenant_key, descending),
            "by tenant {order}"
        );
    }

    // Matches ignore case beyond ASCII, in names and in emails.
    let emiles = expected(&users[..2], name_key, false);
    for word in ["émile", "ÉMILE", "Émile"] {
        let found = ok(
            api.get(&format!("{PHRASE}?_phraseSearchContains={word}&_sortBy=name"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&found), emiles, "phrase {word}");
    }
    for word in ["ÖLAF", "EXÄMPLE"] {
        let found = ok(
            api.get(&format!("{PHRASE}?_phraseSearchContains={word}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&found), [users[5].id.clone()], "phrase {word}");
        let filtered = ok(
            api.get(&format!("{USERS_V3}?_email={word}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids(&filtered), [users[5].id.clone()], "email filter {word}");
    }
}

#[tokio::test]
async fn tenants_sort_and_match_the_same_on_every_database() {
    let app = spawn_app().await;
    let (mut tenants, _) = app.clients().await;
    for (tenant_id, name) in [
        ("école-b", "ÉCOLE B"),
        ("ecole-a", "école a"),
        ("Zulu", "zulu"),
        ("ärzte", "Ärzte"),
        ("alpha", "Alpha"),
    ] {
        tenants
            .create_tenant(crate::helpers::tenant(tenant_id, name))
            .await
            .unwrap();
    }
    let list = |filter: &str, sort_by: pb::TenantSortBy, order: pb::SortOrder| pb::ListTenantsRequest {
        filter: filter.into(),
        sort_by: sort_by.into(),
        order: order.into(),
        ..Default::default()
    };
    let tenant_ids = |response: pb::ListTenantsResponse| -> Vec<String> {
        response.items.into_iter().map(|t| t.tenant_id).collect()
    };
    let by_name = tenants
        .list_tenants(list("", pb::TenantSortBy::Name, pb::SortOrder::Asc))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        tenant_ids(by_name),
        ["alpha", "Zulu", "ärzte", "ecole-a", "école-b"]
    );
    let by_id = tenants
        .list_tenants(list("", pb::TenantSortBy::TenantId, pb::SortOrder::Desc))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        tenant_ids(by_id),
        ["école-b", "ärzte", "ecole-a", "alpha", "Zulu"]
    );
    for text in ["ÉCOLE", "école", "École"] {
        let found = tenants
            .list_tenants(list(text, pb::TenantSortBy::TenantId, pb::SortOrder::Asc))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(tenant_ids(found), ["ecole-a", "école-b"], "filter {text}");
    }
    let found = tenants
        .list_tenants(list("ÄRZTE", pb::TenantSortBy::Name, pb::SortOrder::Asc))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tenant_ids(found), ["ärzte"]);
}

/// Pages of a tenant's users (or the environment's) read by keyset cursor, over gRPC.
async fn pages_by_token(
    users: &mut crate::helpers::Users,
    tenant_id: &str,
    order: pb::SortOrder,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = users
            .list_users(pb::ListUsersRequest {
                limit: 3,
                tenant_id: tenant_id.into(),
                order: order.into(),
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages.push(page.items.into_iter().map(|u| u.id).collect::<Vec<_>>());
        if page.next_page_token.is_empty() {
            return pages;
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn deep_pages_are_read_by_cursor_in_the_order_offsets_give() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let (_, mut users) = app.clients().await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("other", "Other").await;
    let mut acme = Vec::new();
    for n in 0..8 {
        let tenant = if n % 3 == 2 { "other" } else { "acme" };
        let created = api
            .create_user(tenant, &format!("user{n}@example.com"), None)
            .await;
        if tenant == "acme" {
            acme.push(created["id"].as_str().unwrap().to_owned());
        }
        // Two users share each creation time: the id breaks the tie.
        if n % 2 == 1 {
            app.clock.advance(std::time::Duration::from_secs(1));
        }
    }
    let by_offset = |order: &str| {
        let api = &api;
        let order = order.to_owned();
        async move {
            ok(
                api.get(&format!("{USERS_V3}?_tenantId=acme&_limit=200&_order={order}"))
                    .await,
                StatusCode::OK,
            )
            .await
        }
    };
    for (order, pb_order) in [("ASC", pb::SortOrder::Asc), ("DESC", pb::SortOrder::Desc)] {
        let all = ids(&by_offset(order).await);
        assert_eq!(all.len(), acme.len());
        let pages = pages_by_token(&mut users, "acme", pb_order).await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 0]);
        assert_eq!(pages.concat(), all, "gRPC cursor pages {order}");
        // The same over REST, without a tenant filter: the environment's 8 users.
        let everyone = ids(&ok(
            api.get(&format!("{USERS_V3}?_limit=200&_order={order}")).await,
            StatusCode::OK,
        )
        .await);
        let mut read = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("{USERS_V3}?_limit=3&_order={order}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&_cursor={cursor}"));
            }
            let page = ok(api.get(&path).await, StatusCode::OK).await;
            read.extend(ids(&page));
            match page["_nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(read, everyone, "REST cursor pages {order}");
    }
    // Cursors follow the default order only, and must be ones sigil handed out.
    crate::http::invalid(
        api.get(&format!("{USERS_V3}?_sortBy=email&_cursor=eDp5")).await,
        "_cursor",
    )
    .await;
    crate::http::invalid(api.get(&format!("{USERS_V3}?_cursor=nonsense")).await, "_cursor").await;
    let status = users
        .list_users(pb::ListUsersRequest {
            page_token: "nonsense".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    crate::helpers::assert_invalid(&status, "page_token");
}

/// The total of a listing of `tenant` (of the environment when none): as counted without a
/// filter, and as found by a filter every seeded email matches, which reads the users.
async fn totals(api: &Api<'_>, tenant: Option<&str>) -> (u64, u64) {
    let scope = tenant.map_or_else(String::new, |tenant| format!("&_tenantId={tenant}"));
    let mut found = Vec::new();
    for filter in ["", "&_email=example.com"] {
        let page = ok(
            api.get(&format!("{USERS_V3}?_limit=1{scope}{filter}")).await,
            StatusCode::OK,
        )
        .await;
        found.push(page["_metadata"]["totalItems"].as_u64().unwrap());
    }
    (found[0], found[1])
}

#[tokio::test]
async fn totals_follow_every_change_of_membership() {
    let app = spawn_app().await;
    let api = Api::environment(&app).await;
    let (mut tenants, mut users) = app.clients().await;
    api.create_tenant("acme", "Acme").await;
    api.create_tenant("other", "Other").await;
    let mut ids = Vec::new();
    for (n, tenant) in ["acme", "acme", "acme", "acme", "other", "other"]
        .iter()
        .enumerate()
    {
        let created = api
            .create_user(tenant, &format!("user{n}@example.com"), None)
            .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let check = |expected: [(Option<&'static str>, u64); 3], step: &'static str| {
        let api = &api;
        async move {
            for (tenant, members) in expected {
                assert_eq!(
                    totals(api, tenant).await,
                    (members, members),
                    "{step}: total of {tenant:?}"
                );
            }
        }
    };
    check([(Some("acme"), 4), (Some("other"), 2), (None, 6)], "created").await;

    users
        .add_user_to_tenant(pb::AddUserToTenantRequest {
            user_id: ids[0].clone(),
            tenant_id: "other".into(),
        })
        .await
        .unwrap();
    check([(Some("acme"), 4), (Some("other"), 3), (None, 6)], "added").await;

    users
        .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
            user_id: ids[1].clone(),
            tenant_id: "acme".into(),
        })
        .await
        .unwrap();
    let without_tenant = totals(&api, None).await;
    check(
        [(Some("acme"), 3), (Some("other"), 3), (None, without_tenant.0)],
        "removed",
    )
    .await;

    users
        .delete_user(pb::DeleteUserRequest {
            user_id: ids[0].clone(),
        })
        .await
        .unwrap();
    let environment = without_tenant.0 - 1;
    check(
        [(Some("acme"), 2), (Some("other"), 2), (None, environment)],
        "deleted a user",
    )
    .await;

    // Deleting a tenant ends its memberships and deletes the users it alone held (two here).
    tenants
        .delete_tenant(pb::DeleteTenantRequest {
            tenant_id: "other".into(),
        })
        .await
        .unwrap();
    check(
        [(Some("acme"), 2), (Some("acme"), 2), (None, environment - 2)],
        "deleted a tenant",
    )
    .await;
}

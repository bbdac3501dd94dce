//! User management over gRPC.

use sigil::transport::grpc::pb;
use tonic::Code;

use crate::helpers::{Users, assert_error, assert_invalid, invitee, spawn_app, tenant};

async fn create(users: &mut Users, request: pb::CreateUserRequest) -> pb::User {
    users
        .create_user(request)
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
}

async fn get(users: &mut Users, user_id: &str) -> pb::User {
    users
        .get_user(pb::GetUserRequest {
            user_id: user_id.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap()
}

async fn list(users: &mut Users, request: pb::ListUsersRequest) -> pb::ListUsersResponse {
    users.list_users(request).await.unwrap().into_inner()
}

#[tokio::test]
async fn a_user_without_a_password_is_invited_and_not_activated() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let user = create(
        &mut users,
        pb::CreateUserRequest {
            name: "Ann Lee".into(),
            phone_number: "+1 415 555 0100".into(),
            metadata: r#"{"team":"ops"}"#.into(),
            vendor_metadata: r#"{"crm":42}"#.into(),
            external_id: "ext-1".into(),
            profile_picture_url: "https://pics.test/ann.png".into(),
            ..invitee("acme", "Ann.Lee@Example.COM")
        },
    )
    .await;
    assert_eq!(user.email, "ann.lee@example.com");
    assert_eq!(user.sub, user.id);
    assert_eq!(user.tenant_id, "acme");
    assert_eq!(user.tenant_ids, ["acme"]);
    assert_eq!(user.tenants.len(), 1);
    assert!(!user.activated_for_tenant);
    assert!(!user.verified);
    assert!(!user.is_locked);
    assert_eq!(user.provider, "local");
    assert_eq!(user.metadata, r#"{"team":"ops"}"#);
    assert_eq!(user.vendor_metadata, r#"{"crm":42}"#);
    assert!(user.last_login.is_none());
    assert_eq!(app.count("users", "password_hash IS NULL").await, 1);
    assert_eq!(get(&mut users, &user.id).await, user);
}

#[tokio::test]
async fn a_user_with_a_password_is_activated_and_only_a_hash_is_stored() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let user = create(
        &mut users,
        pb::CreateUserRequest {
            password: Some("correct horse battery".into()),
            ..invitee("acme", "bob@example.com")
        },
    )
    .await;
    assert!(user.activated_for_tenant);
    assert_eq!(app.count("users", "password_hash LIKE '$argon2id$%'").await, 1);
    assert_eq!(
        app.count("users", "password_hash LIKE '%correct horse%'").await,
        0
    );
}

#[tokio::test]
async fn bad_user_fields_are_invalid_arguments_and_write_nothing() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let valid = || invitee("acme", "ann@example.com");
    let cases = [
        (
            pb::CreateUserRequest {
                email: "not-an-email".into(),
                ..valid()
            },
            "email",
        ),
        (
            pb::CreateUserRequest {
                email: String::new(),
                ..valid()
            },
            "email",
        ),
        (
            pb::CreateUserRequest {
                email: format!("{}@example.com", "a".repeat(250)),
                ..valid()
            },
            "email",
        ),
        (
            pb::CreateUserRequest {
                tenant_id: String::new(),
                ..valid()
            },
            "tenant_id",
        ),
        (
            pb::CreateUserRequest {
                password: Some("short".into()),
                ..valid()
            },
            "password",
        ),
        (
            pb::CreateUserRequest {
                password: Some("p".repeat(129)),
                ..valid()
            },
            "password",
        ),
        (
            pb::CreateUserRequest {
                name: "n".repeat(256),
                ..valid()
            },
            "name",
        ),
        (
            pb::CreateUserRequest {
                metadata: "[]".into(),
                ..valid()
            },
            "metadata",
        ),
        (
            pb::CreateUserRequest {
                vendor_metadata: "nope".into(),
                ..valid()
            },
            "vendor_metadata",
        ),
        (
            pb::CreateUserRequest {
                phone_number: "call me".into(),
                ..valid()
            },
            "phone_number",
        ),
        (
            pb::CreateUserRequest {
                profile_picture_url: "file:///etc/passwd".into(),
                ..valid()
            },
            "profile_picture_url",
        ),
    ];
    for (request, field) in cases {
        let status = users.create_user(request).await.unwrap_err();
        assert_invalid(&status, field);
    }
    let status = users
        .create_user(invitee("missing", "ann@example.com"))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");
    assert_eq!(app.count("users", "1=1").await, 0);
    assert_eq!(app.count("user_tenants", "1=1").await, 0);
}

#[tokio::test]
async fn emails_are_unique_without_regard_to_case() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    tenants.create_tenant(tenant("other", "Other")).await.unwrap();
    create(&mut users, invitee("acme", "ann@example.com")).await;
    let status = users
        .create_user(invitee("other", "ANN@example.com"))
        .await
        .unwrap_err();
    assert_error(&status, Code::AlreadyExists, "USER_ALREADY_EXISTS");
    assert_eq!(app.count("users", "1=1").await, 1);
    assert_eq!(
        app.count("user_tenants", "1=1").await,
        1,
        "the failed create left no membership"
    );
}

#[tokio::test]
async fn users_are_found_by_email_without_regard_to_case() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let ann = create(&mut users, invitee("acme", "ann@example.com")).await;
    let found = users
        .get_user_by_email(pb::GetUserByEmailRequest {
            email: "Ann@Example.com".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(found.id, ann.id);
    let status = users
        .get_user_by_email(pb::GetUserByEmailRequest {
            email: "bob@example.com".into(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    let status = users
        .get_user_by_email(pb::GetUserByEmailRequest { email: "bob".into() })
        .await
        .unwrap_err();
    assert_invalid(&status, "email");
}

#[tokio::test]
async fn unknown_users_are_not_found_everywhere() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let id = || "no-such-user".to_string();
    let statuses = [
        users
            .get_user(pb::GetUserRequest { user_id: id() })
            .await
            .unwrap_err(),
        users
            .update_user(pb::UpdateUserRequest {
                user_id: id(),
                name: Some("x".into()),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        users
            .delete_user(pb::DeleteUserRequest { user_id: id() })
            .await
            .unwrap_err(),
        users
            .add_user_to_tenant(pb::AddUserToTenantRequest {
                user_id: id(),
                tenant_id: "acme".into(),
            })
            .await
            .unwrap_err(),
        users
            .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
                user_id: id(),
                tenant_id: "acme".into(),
            })
            .await
            .unwrap_err(),
        users
            .lock_user(pb::LockUserRequest { user_id: id() })
            .await
            .unwrap_err(),
        users
            .unlock_user(pb::UnlockUserRequest { user_id: id() })
            .await
            .unwrap_err(),
        users
            .verify_user(pb::VerifyUserRequest { user_id: id() })
            .await
            .unwrap_err(),
        users
            .generate_activation_token(pb::GenerateActivationTokenRequest { user_id: id() })
            .await
            .unwrap_err(),
    ];
    for status in statuses {
        assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    }
}

#[tokio::test]
async fn updates_change_only_the_fields_that_are_set() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let ann = create(
        &mut users,
        pb::CreateUserRequest {
            name: "Ann".into(),
            phone_number: "+15550100".into(),
            ..invitee("acme", "ann@example.com")
        },
    )
    .await;
    let updated = users
        .update_user(pb::UpdateUserRequest {
            user_id: ann.id.clone(),
            phone_number: Some(String::new()),
            metadata: Some(r#"{"a":1}"#.into()),
            mfa_bypass: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(updated.name, "Ann");
    assert_eq!(updated.phone_number, "");
    assert_eq!(updated.metadata, r#"{"a":1}"#);
    assert!(updated.mfa_bypass);
    let status = users
        .update_user(pb::UpdateUserRequest {
            user_id: ann.id.clone(),
            metadata: Some("[1]".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_invalid(&status, "metadata");
    assert_eq!(
        get(&mut users, &ann.id).await.metadata,
        r#"{"a":1}"#,
        "a rejected update changes nothing"
    );
}

#[tokio::test]
async fn deleting_a_user_removes_its_memberships_and_tokens() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let ann = create(&mut users, invitee("acme", "ann@example.com")).await;
    users
        .generate_activation_token(pb::GenerateActivationTokenRequest {
            user_id: ann.id.clone(),
        })
        .await
        .unwrap();
    users
        .delete_user(pb::DeleteUserRequest {
            user_id: ann.id.clone(),
        })
        .await
        .unwrap();
    let status = users
        .get_user(pb::GetUserRequest {
            user_id: ann.id.clone(),
        })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    assert_eq!(app.count("user_tenants", "1=1").await, 0);
    assert_eq!(app.count("user_tokens", "1=1").await, 0);
    let status = users
        .delete_user(pb::DeleteUserRequest { user_id: ann.id })
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
}

#[tokio::test]
async fn memberships_are_added_and_removed() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    tenants.create_tenant(tenant("globex", "Globex")).await.unwrap();
    let ann = create(&mut users, invitee("acme", "ann@example.com")).await;
    let add = |tenant_id: &str| pb::AddUserToTenantRequest {
        user_id: ann.id.clone(),
        tenant_id: tenant_id.into(),
    };
    let remove = |tenant_id: &str| pb::RemoveUserFromTenantRequest {
        user_id: ann.id.clone(),
        tenant_id: tenant_id.into(),
    };

    let both = users
        .add_user_to_tenant(add("globex"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(both.tenant_ids, ["acme", "globex"]);
    assert_eq!(both.tenant_id, "acme");
    let status = users.add_user_to_tenant(add("globex")).await.unwrap_err();
    assert_error(&status, Code::AlreadyExists, "MEMBERSHIP_ALREADY_EXISTS");
    let status = users.add_user_to_tenant(add("missing")).await.unwrap_err();
    assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");

    let left = users
        .remove_user_from_tenant(remove("acme"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(left.tenant_ids, ["globex"]);
    assert_eq!(
        left.tenant_id, "globex",
        "the current tenant follows the remaining membership"
    );
    let status = users.remove_user_from_tenant(remove("acme")).await.unwrap_err();
    assert_error(&status, Code::NotFound, "MEMBERSHIP_NOT_FOUND");
    let status = users
        .remove_user_from_tenant(remove("missing"))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "TENANT_NOT_FOUND");

    let none = users
        .remove_user_from_tenant(remove("globex"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert!(none.tenant_ids.is_empty());
    assert_eq!(none.tenant_id, "");
    let back = users
        .add_user_to_tenant(add("acme"))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(
        back.tenant_id, "acme",
        "a user with no tenant takes the one it joins"
    );
}

#[tokio::test]
async fn lock_unlock_and_verify_set_their_flags() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let ann = create(&mut users, invitee("acme", "ann@example.com")).await;
    let user_id = || ann.id.clone();
    users
        .lock_user(pb::LockUserRequest { user_id: user_id() })
        .await
        .unwrap();
    assert!(get(&mut users, &ann.id).await.is_locked);
    users
        .unlock_user(pb::UnlockUserRequest { user_id: user_id() })
        .await
        .unwrap();
    assert!(!get(&mut users, &ann.id).await.is_locked);
    users
        .verify_user(pb::VerifyUserRequest { user_id: user_id() })
        .await
        .unwrap();
    assert!(get(&mut users, &ann.id).await.verified);
}

#[tokio::test]
async fn activation_tokens_are_stored_hashed_and_replace_earlier_ones() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let ann = create(&mut users, invitee("acme", "ann@example.com")).await;
    let generate = || pb::GenerateActivationTokenRequest {
        user_id: ann.id.clone(),
    };

    let first = users
        .generate_activation_token(generate())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.user_id, ann.id);
    assert!(first.token.len() >= 32, "at least 128 bits, encoded");
    let link = url::Url::parse(&first.link).unwrap();
    assert_eq!(link.origin().ascii_serialization(), "https://app.sigil.test");
    assert_eq!(link.path(), "/portal/oauth/account/activate");
    let query: std::collections::HashMap<_, _> = link.query_pairs().into_owned().collect();
    assert_eq!(query["userId"], ann.id);
    assert_eq!(query["token"], first.token);
    assert_eq!(
        app.count("user_tokens", &format!("token_hash = '{}'", first.token))
            .await,
        0
    );
    assert_eq!(
        app.count(
            "user_tokens",
            &format!("token_hash = '{}'", sigil::domain::secret::digest(&first.token))
        )
        .await,
        1
    );

    let second = users
        .generate_activation_token(generate())
        .await
        .unwrap()
        .into_inner();
    assert_ne!(second.token, first.token);
    assert_eq!(
        app.count("user_tokens", "consumed_at IS NULL").await,
        1,
        "only the newest is live"
    );
    assert_eq!(
        app.count(
            "user_tokens",
            &format!(
                "consumed_at IS NULL AND token_hash = '{}'",
                sigil::domain::secret::digest(&second.token)
            )
        )
        .await,
        1
    );
}

#[tokio::test]
async fn activated_users_get_no_activation_token() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    let bob = create(
        &mut users,
        pb::CreateUserRequest {
            password: Some("correct horse battery".into()),
            ..invitee("acme", "bob@example.com")
        },
    )
    .await;
    let status = users
        .generate_activation_token(pb::GenerateActivationTokenRequest { user_id: bob.id })
        .await
        .unwrap_err();
    assert_error(&status, Code::FailedPrecondition, "USER_ALREADY_ACTIVATED");
    assert_eq!(app.count("user_tokens", "1=1").await, 0);
}

#[tokio::test]
async fn listing_pages_through_users_at_the_edges() {
    let app = spawn_app().await;
    let (mut tenants, mut users) = app.clients().await;
    tenants.create_tenant(tenant("acme", "Acme")).await.unwrap();
    tenants.create_tenant(tenant("globex", "Globex")).await.unwrap();
    let page = |limit: i32, offset: i32| pb::ListUsersRequest {
        limit,
        offset,
        sort_by: pb::UserSortBy::Email.into(),
        ..Default::default()
    };
    let emails = |r: &pb::ListUsersResponse| r.items.iter().map(|u| u.email.clone()).collect::<Vec<_>>();

    let empty = list(&mut users, page(3, 0)).await;
    assert!(empty.items.is_empty());
    assert_eq!(
        empty.metadata,
        Some(pb::PaginationMetadata {
            total_items: 0,
            total_pages: 0
        })
    );

    create(&mut users, invitee("acme", "a@example.com")).await;
    let one = list(&mut users, page(3, 0)).await;
    assert_eq!(emails(&one), ["a@example.com"]);
    assert_eq!(
        one.metadata,
        Some(pb::PaginationMetadata {
            total_items: 1,
            total_pages: 1
        })
    );
    assert_eq!(
        one.items[0].tenant_ids,
        ["acme"],
        "listed users carry their tenants"
    );

    for email in [
        "b@example.com",
        "c@example.com",
        "d@example.com",
        "e@example.com",
        "f@example.com",
    ] {
        create(&mut users, invitee("acme", email)).await;
    }
    create(&mut users, invitee("globex", "g@globex.test")).await;
    let first = list(&mut users, page(3, 0)).await;
    let second = list(&mut users, page(3, 3)).await;
    let third = list(&mut users, page(3, 6)).await;
    let past = list(&mut users, page(3, 9)).await;
    assert_eq!(
        emails(&first),
        ["a@example.com", "b@example.com", "c@example.com"]
    );
    assert_eq!(
        emails(&second),
        ["d@example.com", "e@example.com", "f@example.com"]
    );
    assert_eq!(emails(&third), ["g@globex.test"]);
    assert!(past.items.is_empty());
    assert_eq!(
        first.metadata,
        Some(pb::PaginationMetadata {
            total_items: 7,
            total_pages: 3
        })
    );

    // Exactly two full pages of the tenant's six members.
    let members = |offset: i32| pb::ListUsersRequest {
        tenant_id: "acme".into(),
        ..page(3, offset)
    };
    let m1 = list(&mut users, members(0)).await;
    let m2 = list(&mut users, members(3)).await;
    assert_eq!(
        m1.metadata,
        Some(pb::PaginationMetadata {
            total_items: 6,
            total_pages: 2
        })
    );
    assert_eq!(emails(&m2), ["d@example.com", "e@example.com", "f@example.com"]);
    assert!(list(&mut users, members(6)).await.items.is_empty());

    let unknown_tenant = list(
        &mut users,
        pb::ListUsersRequest {
            tenant_id: "nobody".into(),
            ..page(3, 0)
        },
    )
    .await;
    assert_eq!(unknown_tenant.metadata.unwrap().total_items, 0);

    let by_email = list(
        &mut users,
        pb::ListUsersRequest {
            email: "GLOBEX".into(),
            ..page(3, 0)
        },
    )
    .await;
    assert_eq!(emails(&by_email), ["g@globex.test"]);

    let descending = list(
        &mut users,
        pb::ListUsersRequest {
            order: pb::SortOrder::Desc.into(),
            ..page(2, 0)
        },
    )
    .await;
    assert_eq!(emails(&descending), ["g@globex.test", "f@example.com"]);

    let by_ids = list(
        &mut users,
        pb::ListUsersRequest {
            ids: vec![first.items[0].id.clone(), third.items[0].id.clone()],
            ..page(10, 0)
        },
    )
    .await;
    assert_eq!(emails(&by_ids), ["a@example.com", "g@globex.test"]);

    for (limit, offset, field) in [(201, 0, "limit"), (-5, 0, "limit"), (1, -1, "offset")] {
        let status = users.list_users(page(limit, offset)).await.unwrap_err();
        assert_invalid(&status, field);
    }
}

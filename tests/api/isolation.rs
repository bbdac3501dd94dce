//! Environments are isolated: on one server holding two environments, nothing created in A
//! (tenants, users, memberships, metadata, sessions, refresh and activation tokens) can be seen
//! or changed from B, through any gRPC RPC or REST route sigil serves, and B's tokens are never
//! taken for A's. Every operation tried is recorded, and the test ends by comparing the record
//! with the operations the server describes (its descriptor set and `/openapi.json`): an
//! operation added without a case here fails it.

use std::collections::BTreeSet;

use prost_reflect::DescriptorPool;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use sigil::transport::grpc::pb;
use tonic::{Code, Request, Status, metadata::MetadataValue};

use crate::{
    environment_admin::{create_environment, spawn_administered_app},
    helpers::{Bearer, CLIENT_ID, SECRET, TestApp, assert_error},
    http::{Api, ok},
};

const PASSWORD: &str = "correct horse battery";
/// B's vendor host; A is the default environment, which requests naming no host reach.
const HOST_B: &str = "b.sigil.test";
/// A's identifiers, distinctive enough that finding one in any answer to B is a leak.
const A_TENANT: &str = "alpha-tenant";
const A_USER: &str = "ann@alpha.test";
const A_INVITEE: &str = "bob@alpha.test";
const A_MARK: &str = "alpha-mark";

/// Operations that are not about an environment's data: the administration of environments
/// themselves (deployment-level), and the probes and the API document.
const NOT_ENVIRONMENT_DATA: &[&str] = &[
    "EnvironmentAdminService/*",
    "GET /healthz",
    "GET /livez",
    "GET /readyz",
    "GET /openapi.json",
];

/// A request to the public RPCs, for B by its vendor host.
fn in_b<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("frontegg-vendor-host", MetadataValue::from_static(HOST_B));
    request
}

/// What A holds, as A sees it: every tenant and every user, in full.
async fn a_state(app: &TestApp, a_token: &str) -> (String, String) {
    let tenants = app
        .tenants_with(Bearer::token(a_token))
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let users = app
        .users_with(Bearer::token(a_token))
        .list_users(pb::ListUsersRequest::default())
        .await
        .unwrap()
        .into_inner();
    let roles = pb::role_service_client::RoleServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(a_token),
    )
    .list_roles(pb::ListRolesRequest {
        tenant_id: A_TENANT.into(),
    })
    .await
    .unwrap()
    .into_inner();
    let mut permissions = pb::permission_service_client::PermissionServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(a_token),
    );
    let listed = permissions
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner();
    let categories = permissions
        .list_permission_categories(pb::ListPermissionCategoriesRequest {})
        .await
        .unwrap()
        .into_inner();
    (
        format!("{:?}", tenants.items),
        format!(
            "{:?} {:?} {:?} {:?}",
            users.items, roles.roles, listed.permissions, categories.categories
        ),
    )
}

/// A's own role (of its tenant), permission and category: `(role, permission, category)` ids.
async fn a_authorization(app: &TestApp, a_token: &str) -> (String, String, String) {
    let mut permissions = pb::permission_service_client::PermissionServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(a_token),
    );
    let category = permissions
        .create_permission_category(pb::CreatePermissionCategoryRequest {
            name: format!("{A_MARK} category"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    let permission = permissions
        .create_permissions(pb::CreatePermissionsRequest {
            permissions: vec![pb::NewPermission {
                key: "alpha.reports.read".into(),
                name: format!("{A_MARK} permission"),
                category_id: category.id.clone(),
                ..Default::default()
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .permissions
        .remove(0);
    let role = pb::role_service_client::RoleServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(a_token),
    )
    .create_roles(pb::CreateRolesRequest {
        tenant_id: A_TENANT.into(),
        roles: vec![pb::NewRole {
            key: "alpha-reporter".into(),
            name: format!("{A_MARK} role"),
            level: 3,
            ..Default::default()
        }],
    })
    .await
    .unwrap()
    .into_inner()
    .roles
    .remove(0);
    (role.id, permission.id, category.id)
}

/// A's group in its tenant, holding `member` and `role`: its id.
async fn a_group(app: &TestApp, a_token: &str, member: &str, role: &str) -> String {
    let mut groups = pb::group_service_client::GroupServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(a_token),
    );
    let group = groups
        .create_group(pb::CreateGroupRequest {
            tenant_id: A_TENANT.into(),
            name: format!("{A_MARK} group"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .group
        .unwrap()
        .id;
    groups
        .add_group_users(pb::AddGroupUsersRequest {
            tenant_id: A_TENANT.into(),
            group_id: group.clone(),
            user_ids: vec![member.into()],
        })
        .await
        .unwrap();
    groups
        .add_group_roles(pb::AddGroupRolesRequest {
            tenant_id: A_TENANT.into(),
            group_id: group.clone(),
            role_ids: vec![role.into()],
        })
        .await
        .unwrap();
    group
}

/// A's groups and groups configuration, as A sees them.
async fn a_groups_state(app: &TestApp, a_token: &str) -> String {
    let mut groups = pb::group_service_client::GroupServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(a_token),
    );
    let listed = groups
        .list_groups(pb::ListGroupsRequest {
            tenant_id: A_TENANT.into(),
            relations: pb::GroupRelations::RolesAndUsers.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let configuration = groups
        .get_groups_configuration(pb::GetGroupsConfigurationRequest {})
        .await
        .unwrap()
        .into_inner();
    format!("{listed:?} {configuration:?}")
}

/// Whether `text` shows anything of A's.
fn leaks(text: &str, a_ids: &[&str]) -> bool {
    [A_TENANT, A_USER, A_INVITEE, A_MARK]
        .iter()
        .chain(a_ids)
        .any(|mark| text.contains(mark))
}

#[track_caller]
fn refused(result: Result<impl std::fmt::Debug, Status>, code: Code) {
    match result {
        Ok(answer) => panic!("expected {code:?}, got {answer:?}"),
        Err(status) => assert_eq!(status.code(), code, "{status:?}"),
    }
}

/// Asserts one of `statuses` and returns the body.
async fn answered(response: Response, statuses: &[StatusCode]) -> String {
    let status = response.status();
    let url = response.url().clone();
    let body = response.text().await.unwrap();
    assert!(statuses.contains(&status), "{url}: got {status}: {body}");
    body
}

struct Rest<'a> {
    app: &'a TestApp,
    covered: &'a mut BTreeSet<String>,
}

impl Rest<'_> {
    /// A request to `path` (a template with its parameters filled in), recorded under `template`.
    fn call(&mut self, method: Method, template: &str, path: &str) -> RequestBuilder {
        self.covered.insert(format!("{method} {template}"));
        Api::anonymous(self.app).request(method, path)
    }
}

#[tokio::test]
async fn nothing_of_one_environment_is_visible_or_changeable_from_another() {
    let app = spawn_administered_app().await;
    let (b, b_secret) = create_environment(&app, "B", HOST_B).await;
    let a_token = app.env_token().await;
    let b_token = app
        .auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: b.client_id.clone(),
            secret: b_secret.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;

    // A: a tenant with metadata, a member with a password and metadata, an invited member, and a
    // signed-in session.
    let (mut a_tenants, mut a_users) = (
        app.tenants_with(Bearer::token(&a_token)),
        app.users_with(Bearer::token(&a_token)),
    );
    a_tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: A_TENANT.into(),
            name: "Alpha".into(),
            metadata: json!({"plan": A_MARK}).to_string(),
            ..Default::default()
        })
        .await
        .unwrap();
    let ann = a_users
        .create_user(pb::CreateUserRequest {
            tenant_id: A_TENANT.into(),
            email: A_USER.into(),
            name: "Ann".into(),
            password: Some(PASSWORD.into()),
            metadata: json!({"note": A_MARK}).to_string(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let bob = a_users
        .create_user(pb::CreateUserRequest {
            tenant_id: A_TENANT.into(),
            email: A_INVITEE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let activation = a_users
        .generate_activation_token(pb::GenerateActivationTokenRequest {
            user_id: bob.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let ann_session = app.login(A_USER, PASSWORD).await;
    let a_ids = [ann.id.as_str(), bob.id.as_str()];

    // B: its own tenant and signed-in user.
    let (mut b_tenants, mut b_users) = (
        app.tenants_with(Bearer::token(&b_token)),
        app.users_with(Bearer::token(&b_token)),
    );
    b_tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: "beta".into(),
            name: "Beta".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let zed = b_users
        .create_user(pb::CreateUserRequest {
            tenant_id: "beta".into(),
            email: "zed@beta.test".into(),
            password: Some(PASSWORD.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    let zed_session = app
        .auth()
        .login(in_b(pb::LoginRequest {
            email: "zed@beta.test".into(),
            password: PASSWORD.into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .authentication
        .unwrap();

    let (a_role, a_permission, a_category) = a_authorization(&app, &a_token).await;
    let a_group = a_group(&app, &a_token, &ann.id, &a_role).await;
    let before = a_state(&app, &a_token).await;
    let groups_before = a_groups_state(&app, &a_token).await;
    let mut covered = BTreeSet::new();
    let mut rpc = |name: &str| {
        covered.insert(name.to_owned());
    };

    // --- gRPC, as B ---
    rpc("EnvironmentAuthService/AuthenticateVendor");
    for (client_id, secret) in [(b.client_id.as_str(), SECRET), (CLIENT_ID, b_secret.as_str())] {
        let status = app
            .auth_client()
            .authenticate_vendor(pb::AuthenticateVendorRequest {
                client_id: client_id.into(),
                secret: secret.into(),
            })
            .await
            .unwrap_err();
        assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    }

    rpc("TenantService/GetTenant");
    refused(
        b_tenants
            .get_tenant(pb::GetTenantRequest {
                tenant_id: A_TENANT.into(),
            })
            .await,
        Code::NotFound,
    );
    rpc("TenantService/ListTenants");
    for request in [
        pb::ListTenantsRequest::default(),
        pb::ListTenantsRequest {
            tenant_ids: vec![A_TENANT.into()],
            ..Default::default()
        },
        pb::ListTenantsRequest {
            filter: "alpha".into(),
            ..Default::default()
        },
    ] {
        let listed = b_tenants.list_tenants(request).await.unwrap().into_inner();
        assert!(!leaks(&format!("{listed:?}"), &a_ids), "{listed:?}");
    }
    rpc("TenantService/UpdateTenant");
    refused(
        b_tenants
            .update_tenant(pb::UpdateTenantRequest {
                tenant_id: A_TENANT.into(),
                name: Some("Taken".into()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("TenantService/DeleteTenant");
    refused(
        b_tenants
            .delete_tenant(pb::DeleteTenantRequest {
                tenant_id: A_TENANT.into(),
            })
            .await,
        Code::NotFound,
    );
    rpc("TenantService/AddTenantMetadata");
    refused(
        b_tenants
            .add_tenant_metadata(pb::AddTenantMetadataRequest {
                tenant_id: A_TENANT.into(),
                metadata: json!({"plan": "taken"}).to_string(),
            })
            .await,
        Code::NotFound,
    );
    rpc("TenantService/DeleteTenantMetadata");
    refused(
        b_tenants
            .delete_tenant_metadata(pb::DeleteTenantMetadataRequest {
                tenant_id: A_TENANT.into(),
                key: "plan".into(),
            })
            .await,
        Code::NotFound,
    );
    rpc("TenantService/CreateTenant");
    // A's tenant is no parent of B's.
    let status = b_tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: "beta-child".into(),
            name: "Child".into(),
            parent_tenant_id: A_TENANT.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    rpc("UserService/GetUser");
    for id in a_ids {
        refused(
            b_users.get_user(pb::GetUserRequest { user_id: id.into() }).await,
            Code::NotFound,
        );
    }
    rpc("UserService/GetUserByEmail");
    refused(
        b_users
            .get_user_by_email(pb::GetUserByEmailRequest { email: A_USER.into() })
            .await,
        Code::NotFound,
    );
    rpc("UserService/ListUsers");
    for request in [
        pb::ListUsersRequest::default(),
        pb::ListUsersRequest {
            email: A_USER.into(),
            ..Default::default()
        },
        pb::ListUsersRequest {
            ids: a_ids.iter().map(|id| (*id).to_owned()).collect(),
            ..Default::default()
        },
    ] {
        let listed = b_users.list_users(request).await.unwrap().into_inner();
        assert!(!leaks(&format!("{listed:?}"), &a_ids), "{listed:?}");
    }
    match b_users
        .list_users(pb::ListUsersRequest {
            tenant_id: A_TENANT.into(),
            ..Default::default()
        })
        .await
    {
        Ok(listed) => assert!(listed.get_ref().items.is_empty(), "{listed:?}"),
        Err(status) => assert_eq!(status.code(), Code::NotFound, "{status:?}"),
    }
    rpc("UserService/SearchUsers");
    let found = b_users
        .search_users(pb::SearchUsersRequest {
            contains: vec!["alpha".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(found.items.is_empty(), "{found:?}");
    rpc("UserService/UpdateUser");
    refused(
        b_users
            .update_user(pb::UpdateUserRequest {
                user_id: ann.id.clone(),
                name: Some("Taken".into()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/DeleteUser");
    refused(
        b_users
            .delete_user(pb::DeleteUserRequest {
                user_id: ann.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/AddUserToTenant");
    for (user_id, tenant_id) in [(ann.id.as_str(), "beta"), (zed.id.as_str(), A_TENANT)] {
        refused(
            b_users
                .add_user_to_tenant(pb::AddUserToTenantRequest {
                    user_id: user_id.into(),
                    tenant_id: tenant_id.into(),
                })
                .await,
            Code::NotFound,
        );
    }
    rpc("UserService/RemoveUserFromTenant");
    refused(
        b_users
            .remove_user_from_tenant(pb::RemoveUserFromTenantRequest {
                user_id: ann.id.clone(),
                tenant_id: A_TENANT.into(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/LockUser");
    refused(
        b_users
            .lock_user(pb::LockUserRequest {
                user_id: ann.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/UnlockUser");
    refused(
        b_users
            .unlock_user(pb::UnlockUserRequest {
                user_id: ann.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/SetUserSuperUser");
    refused(
        b_users
            .set_user_super_user(pb::SetUserSuperUserRequest {
                user_id: ann.id.clone(),
                super_user: true,
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/BulkUpdateUserRoles");
    refused(
        b_users
            .bulk_update_user_roles(pb::BulkUpdateUserRolesRequest {
                user_id: ann.id.clone(),
                add_role_ids: vec![a_role.clone()],
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/GetBulkRolesTask");
    refused(
        b_users
            .get_bulk_roles_task(pb::GetBulkRolesTaskRequest {
                task_id: uuid::Uuid::new_v4().to_string(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/SetUserInvisible");
    refused(
        b_users
            .set_user_invisible(pb::SetUserInvisibleRequest {
                user_id: ann.id.clone(),
                invisible: true,
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/SetUserActiveTenant");
    for (user_id, tenant_id) in [(&ann.id, A_TENANT), (&zed.id, A_TENANT)] {
        let status = b_users
            .set_user_active_tenant(pb::SetUserActiveTenantRequest {
                user_id: user_id.clone(),
                tenant_id: tenant_id.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
    }
    rpc("UserService/VerifyUser");
    refused(
        b_users
            .verify_user(pb::VerifyUserRequest {
                user_id: bob.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/GenerateActivationToken");
    refused(
        b_users
            .generate_activation_token(pb::GenerateActivationTokenRequest {
                user_id: bob.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("UserService/CreateUser");
    refused(
        b_users
            .create_user(pb::CreateUserRequest {
                tenant_id: A_TENANT.into(),
                email: "new@beta.test".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );

    rpc("AuthService/Login");
    let status = app
        .auth()
        .login(in_b(pb::LoginRequest {
            email: A_USER.into(),
            password: PASSWORD.into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_CREDENTIALS");
    rpc("AuthService/RefreshToken");
    refused(
        app.auth()
            .refresh_token(in_b(pb::RefreshTokenRequest {
                refresh_token: ann_session.refresh_token.clone(),
            }))
            .await,
        Code::Unauthenticated,
    );
    rpc("AuthService/Logout");
    // Whatever it answers, A's session must survive it (checked at the end).
    let _ = app
        .auth()
        .logout(in_b(pb::LogoutRequest {
            refresh_token: ann_session.refresh_token.clone(),
        }))
        .await;

    rpc("TokenService/ValidateToken");
    refused(
        app.tokens()
            .validate_token(in_b(pb::ValidateTokenRequest {
                access_token: ann_session.access_token.clone(),
                ..Default::default()
            }))
            .await,
        Code::Unauthenticated,
    );
    // And B's tokens are not A's.
    refused(
        app.validate(&zed_session.access_token).await,
        Code::Unauthenticated,
    );
    app.tokens()
        .validate_token(in_b(pb::ValidateTokenRequest {
            access_token: zed_session.access_token.clone(),
            ..Default::default()
        }))
        .await
        .expect("B's token is B's");
    // A user's access token is no environment token, of A or of B.
    refused(
        app.tenants_with(Bearer::token(&zed_session.access_token))
            .list_tenants(pb::ListTenantsRequest::default())
            .await,
        Code::PermissionDenied,
    );
    rpc("ConfigurationService/GetIdentityConfiguration");
    let configuration = |token: &str| {
        pb::configuration_service_client::ConfigurationServiceClient::with_interceptor(
            app.channel.clone(),
            Bearer::token(token),
        )
    };
    let b_configuration = configuration(&b_token)
        .get_identity_configuration(pb::GetIdentityConfigurationRequest {})
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    let a_configuration = configuration(&a_token)
        .get_identity_configuration(pb::GetIdentityConfigurationRequest {})
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(b_configuration.id, b.id);
    assert_ne!(b_configuration.public_key, a_configuration.public_key);
    rpc("ConfigurationService/UpdateIdentityConfiguration");
    rpc("ConfigurationService/GetBasicIdentityConfiguration");
    let changed = configuration(&b_token)
        .update_identity_configuration(pb::UpdateIdentityConfigurationRequest {
            force_permissions: Some(!a_configuration.force_permissions),
            default_token_expiration: Some(a_configuration.default_token_expiration + 60),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(changed.id, b.id);
    let a_basic = configuration(&a_token)
        .get_basic_identity_configuration(pb::GetBasicIdentityConfigurationRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        a_basic.force_permissions, a_configuration.force_permissions,
        "B changed only its own"
    );
    let a_after = configuration(&a_token)
        .get_identity_configuration(pb::GetIdentityConfigurationRequest {})
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert_eq!(
        a_after.default_token_expiration,
        a_configuration.default_token_expiration
    );

    // Roles, permissions and categories: B sees none of A's own and changes none.
    let mut b_roles = pb::role_service_client::RoleServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&b_token),
    );
    let mut b_permissions = pb::permission_service_client::PermissionServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&b_token),
    );
    rpc("RoleService/ListRoles");
    let listed = b_roles
        .list_roles(pb::ListRolesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(!format!("{listed:?}").contains(A_MARK));
    refused(
        b_roles
            .list_roles(pb::ListRolesRequest {
                tenant_id: A_TENANT.into(),
            })
            .await,
        Code::NotFound,
    );
    rpc("RoleService/ListRolesPaged");
    let listed = b_roles
        .list_roles_paged(pb::ListRolesPagedRequest {
            limit: 200,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!format!("{listed:?}").contains(A_MARK));
    let listed = b_roles
        .list_roles_paged(pb::ListRolesPagedRequest {
            tenant_ids: vec![A_TENANT.into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.roles.is_empty(), "{listed:?}");
    rpc("RoleService/ListRoleLevels");
    refused(
        b_roles
            .list_role_levels(pb::ListRoleLevelsRequest {
                tenant_id: A_TENANT.into(),
            })
            .await,
        Code::NotFound,
    );
    rpc("RoleService/ListRoleTenants");
    let tenants = b_roles
        .list_role_tenants(pb::ListRoleTenantsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!tenants.tenant_ids.contains(&A_TENANT.to_owned()));
    rpc("RoleService/CreateRoleFromBase");
    refused(
        b_roles
            .create_role_from_base(pb::CreateRoleFromBaseRequest {
                key: "b-derived".into(),
                name: "B derived".into(),
                base_role_id: a_role.clone(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    for tenant in [A_TENANT, "beta"] {
        rpc("RoleService/AssignUserRoles");
        refused(
            b_roles
                .assign_user_roles(pb::AssignUserRolesRequest {
                    user_id: ann.id.clone(),
                    tenant_id: tenant.into(),
                    role_ids: vec![a_role.clone()],
                })
                .await,
            Code::NotFound,
        );
        rpc("RoleService/UnassignUserRoles");
        refused(
            b_roles
                .unassign_user_roles(pb::UnassignUserRolesRequest {
                    user_id: ann.id.clone(),
                    tenant_id: tenant.into(),
                    role_ids: vec![a_role.clone()],
                })
                .await,
            Code::NotFound,
        );
    }
    rpc("RoleService/ListUsersRoles");
    refused(
        b_roles
            .list_users_roles(pb::ListUsersRolesRequest {
                tenant_id: A_TENANT.into(),
                user_ids: vec![ann.id.clone()],
            })
            .await,
        Code::NotFound,
    );
    let beta = b_roles
        .list_users_roles(pb::ListUsersRolesRequest {
            tenant_id: "beta".into(),
            user_ids: vec![ann.id.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(beta.users.is_empty(), "{beta:?}");
    rpc("RoleService/CreateRoles");
    refused(
        b_roles
            .create_roles(pb::CreateRolesRequest {
                tenant_id: A_TENANT.into(),
                roles: vec![pb::NewRole {
                    key: "in-alpha".into(),
                    name: "In alpha".into(),
                    ..Default::default()
                }],
            })
            .await,
        Code::NotFound,
    );
    rpc("RoleService/UpdateRole");
    refused(
        b_roles
            .update_role(pb::UpdateRoleRequest {
                role_id: a_role.clone(),
                name: Some("taken".into()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("RoleService/DeleteRole");
    refused(
        b_roles
            .delete_role(pb::DeleteRoleRequest {
                role_id: a_role.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("RoleService/SetRolePermissions");
    refused(
        b_roles
            .set_role_permissions(pb::SetRolePermissionsRequest {
                role_id: a_role.clone(),
                permission_ids: Vec::new(),
            })
            .await,
        Code::NotFound,
    );
    rpc("RoleService/SetRoleTenant");
    refused(
        b_roles
            .set_role_tenant(pb::SetRoleTenantRequest {
                role_id: a_role.clone(),
                tenant_id: String::new(),
            })
            .await,
        Code::NotFound,
    );
    // Groups: B neither sees nor changes A's, naming A's tenant or its own.
    let mut b_groups = pb::group_service_client::GroupServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&b_token),
    );
    rpc("GroupService/CreateGroup");
    refused(
        b_groups
            .create_group(pb::CreateGroupRequest {
                tenant_id: A_TENANT.into(),
                name: "in alpha".into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    b_groups
        .create_group(pb::CreateGroupRequest {
            tenant_id: "beta".into(),
            name: "beta group".into(),
            ..Default::default()
        })
        .await
        .expect("B's own group");
    for tenant in [A_TENANT, "beta"] {
        rpc("GroupService/GetGroup");
        refused(
            b_groups
                .get_group(pb::GetGroupRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                    ..Default::default()
                })
                .await,
            Code::NotFound,
        );
        rpc("GroupService/UpdateGroup");
        refused(
            b_groups
                .update_group(pb::UpdateGroupRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                    name: Some("taken".into()),
                    ..Default::default()
                })
                .await,
            Code::NotFound,
        );
        rpc("GroupService/DeleteGroup");
        refused(
            b_groups
                .delete_group(pb::DeleteGroupRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                })
                .await,
            Code::NotFound,
        );
        rpc("GroupService/AddGroupRoles");
        refused(
            b_groups
                .add_group_roles(pb::AddGroupRolesRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                    role_ids: vec![a_role.clone()],
                })
                .await,
            Code::NotFound,
        );
        rpc("GroupService/RemoveGroupRoles");
        refused(
            b_groups
                .remove_group_roles(pb::RemoveGroupRolesRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                    role_ids: vec![a_role.clone()],
                })
                .await,
            Code::NotFound,
        );
        rpc("GroupService/AddGroupUsers");
        refused(
            b_groups
                .add_group_users(pb::AddGroupUsersRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                    user_ids: vec![ann.id.clone()],
                })
                .await,
            Code::NotFound,
        );
        rpc("GroupService/RemoveGroupUsers");
        refused(
            b_groups
                .remove_group_users(pb::RemoveGroupUsersRequest {
                    tenant_id: tenant.into(),
                    group_id: a_group.clone(),
                    user_ids: vec![ann.id.clone()],
                })
                .await,
            Code::NotFound,
        );
    }
    rpc("GroupService/ListGroups");
    refused(
        b_groups
            .list_groups(pb::ListGroupsRequest {
                tenant_id: A_TENANT.into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("GroupService/ListGroupsPaged");
    refused(
        b_groups
            .list_groups_paged(pb::ListGroupsPagedRequest {
                tenant_id: A_TENANT.into(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("GroupService/BatchGetGroups");
    refused(
        b_groups
            .batch_get_groups(pb::BatchGetGroupsRequest {
                tenant_id: A_TENANT.into(),
                group_ids: vec![a_group.clone()],
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    let found = b_groups
        .batch_get_groups(pb::BatchGetGroupsRequest {
            tenant_id: "beta".into(),
            group_ids: vec![a_group.clone()],
            relations: pb::GroupRelations::RolesAndUsers.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(found.groups.is_empty(), "{found:?}");
    rpc("GroupService/ListUsersGroups");
    refused(
        b_groups
            .list_users_groups(pb::ListUsersGroupsRequest {
                tenant_id: A_TENANT.into(),
                user_ids: vec![ann.id.clone()],
            })
            .await,
        Code::NotFound,
    );
    let beta = b_groups
        .list_users_groups(pb::ListUsersGroupsRequest {
            tenant_id: "beta".into(),
            user_ids: vec![ann.id.clone()],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(beta.users.is_empty(), "{beta:?}");
    // B's configuration is its own: turning its groups off leaves A's on.
    rpc("GroupService/UpdateGroupsConfiguration");
    b_groups
        .update_groups_configuration(pb::UpdateGroupsConfigurationRequest {
            enabled: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    rpc("GroupService/GetGroupsConfiguration");
    let b_configuration = b_groups
        .get_groups_configuration(pb::GetGroupsConfigurationRequest {})
        .await
        .unwrap()
        .into_inner()
        .configuration
        .unwrap();
    assert!(!b_configuration.enabled);
    rpc("PermissionService/ListPermissions");
    let listed = b_permissions
        .list_permissions(pb::ListPermissionsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!format!("{listed:?}").contains(A_MARK));
    rpc("PermissionService/ListPermissionCategories");
    let listed = b_permissions
        .list_permission_categories(pb::ListPermissionCategoriesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!format!("{listed:?}").contains(A_MARK));
    rpc("PermissionService/CreatePermissions");
    refused(
        b_permissions
            .create_permissions(pb::CreatePermissionsRequest {
                permissions: vec![pb::NewPermission {
                    key: "b.reports".into(),
                    name: "B reports".into(),
                    category_id: a_category.clone(),
                    ..Default::default()
                }],
            })
            .await,
        Code::InvalidArgument,
    );
    rpc("PermissionService/UpdatePermission");
    refused(
        b_permissions
            .update_permission(pb::UpdatePermissionRequest {
                permission_id: a_permission.clone(),
                name: Some("taken".into()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("PermissionService/DeletePermission");
    refused(
        b_permissions
            .delete_permission(pb::DeletePermissionRequest {
                permission_id: a_permission.clone(),
            })
            .await,
        Code::NotFound,
    );
    rpc("PermissionService/AddPermissionToRoles");
    refused(
        b_permissions
            .add_permission_to_roles(pb::AddPermissionToRolesRequest {
                permission_id: a_permission.clone(),
                role_ids: vec![a_role.clone()],
            })
            .await,
        Code::NotFound,
    );
    rpc("PermissionService/ClassifyPermissions");
    refused(
        b_permissions
            .classify_permissions(pb::ClassifyPermissionsRequest {
                permission_ids: vec![a_permission.clone()],
                assignment_type: pb::AssignmentType::Always.into(),
            })
            .await,
        Code::InvalidArgument,
    );
    rpc("PermissionService/CreatePermissionCategory");
    // A category id is the environment's own: B may use the same id without touching A's.
    b_permissions
        .create_permission_category(pb::CreatePermissionCategoryRequest {
            id: a_category.clone(),
            name: "B's own".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    b_permissions
        .delete_permission_category(pb::DeletePermissionCategoryRequest {
            category_id: a_category.clone(),
        })
        .await
        .unwrap();
    rpc("PermissionService/UpdatePermissionCategory");
    refused(
        b_permissions
            .update_permission_category(pb::UpdatePermissionCategoryRequest {
                category_id: a_category.clone(),
                name: Some("taken".into()),
                ..Default::default()
            })
            .await,
        Code::NotFound,
    );
    rpc("PermissionService/DeletePermissionCategory");
    refused(
        b_permissions
            .delete_permission_category(pb::DeletePermissionCategoryRequest {
                category_id: a_category.clone(),
            })
            .await,
        Code::NotFound,
    );

    // A's user, with B named by the vendor host: its token is not valid there.
    let mut a_user_in_b = pb::me_service_client::MeServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&ann_session.access_token),
    );
    rpc("MeService/GetMe");
    refused(
        a_user_in_b.get_me(in_b(pb::GetMeRequest {})).await,
        Code::Unauthenticated,
    );
    rpc("MeService/UpdateMe");
    refused(
        a_user_in_b
            .update_me(in_b(pb::UpdateMeRequest {
                name: Some("changed from B".into()),
                ..Default::default()
            }))
            .await,
        Code::Unauthenticated,
    );
    rpc("MeService/GetMyAuthorization");
    refused(
        a_user_in_b
            .get_my_authorization(in_b(pb::GetMyAuthorizationRequest {}))
            .await,
        Code::Unauthenticated,
    );
    rpc("MeService/ListMyTenants");
    refused(
        a_user_in_b
            .list_my_tenants(in_b(pb::ListMyTenantsRequest {}))
            .await,
        Code::Unauthenticated,
    );
    rpc("MeService/SwitchMyTenant");
    refused(
        a_user_in_b
            .switch_my_tenant(in_b(pb::SwitchMyTenantRequest {
                tenant_id: "beta".into(),
            }))
            .await,
        Code::Unauthenticated,
    );
    // B's own user cannot switch to A's tenant, nor learn that it exists.
    let status = pb::me_service_client::MeServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&zed_session.access_token),
    )
    .switch_my_tenant(in_b(pb::SwitchMyTenantRequest {
        tenant_id: A_TENANT.into(),
    }))
    .await
    .unwrap_err();
    assert_error(&status, Code::NotFound, "MEMBERSHIP_NOT_FOUND");

    // The team: A's user is no one in B, and B's user finds none of A's members.
    let mut a_team_in_b = pb::team_service_client::TeamServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&ann_session.access_token),
    );
    let mut b_team = pb::team_service_client::TeamServiceClient::with_interceptor(
        app.channel.clone(),
        Bearer::token(&zed_session.access_token),
    );
    rpc("TeamService/ListTeamMembers");
    refused(
        a_team_in_b
            .list_team_members(in_b(pb::ListTeamMembersRequest::default()))
            .await,
        Code::Unauthenticated,
    );
    let listed = b_team
        .list_team_members(in_b(pb::ListTeamMembersRequest {
            search: "alpha".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(!leaks(&format!("{listed:?}"), &a_ids));
    let listed = b_team
        .list_team_members(in_b(pb::ListTeamMembersRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(!leaks(&format!("{listed:?}"), &a_ids), "{listed:?}");
    rpc("TeamService/SetTeamMemberRoles");
    refused(
        a_team_in_b
            .set_team_member_roles(in_b(pb::SetTeamMemberRolesRequest {
                user_id: ann.id.clone(),
                role_ids: vec![],
            }))
            .await,
        Code::Unauthenticated,
    );
    let status = b_team
        .set_team_member_roles(in_b(pb::SetTeamMemberRolesRequest {
            user_id: ann.id.clone(),
            role_ids: vec![a_role.clone()],
        }))
        .await
        .unwrap_err();
    assert!(
        [Code::NotFound, Code::InvalidArgument].contains(&status.code()),
        "{status:?}"
    );
    let status = b_team
        .set_team_member_roles(in_b(pb::SetTeamMemberRolesRequest {
            user_id: zed.id.clone(),
            role_ids: vec![a_role.clone()],
        }))
        .await
        .unwrap_err();
    assert_error(&status, Code::InvalidArgument, "INVALID_ARGUMENT");
    rpc("TeamService/RemoveTeamMember");
    refused(
        a_team_in_b
            .remove_team_member(in_b(pb::RemoveTeamMemberRequest {
                user_id: zed.id.clone(),
            }))
            .await,
        Code::Unauthenticated,
    );
    let status = b_team
        .remove_team_member(in_b(pb::RemoveTeamMemberRequest {
            user_id: ann.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_error(&status, Code::NotFound, "USER_NOT_FOUND");
    rpc("TeamService/ListTeamRoles");
    refused(
        a_team_in_b
            .list_team_roles(in_b(pb::ListTeamRolesRequest {}))
            .await,
        Code::Unauthenticated,
    );
    let roles = b_team
        .list_team_roles(in_b(pb::ListTeamRolesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(roles.roles.iter().all(|r| r.id != a_role), "{roles:?}");
    rpc("TeamService/GetTeamStats");
    refused(
        a_team_in_b.get_team_stats(in_b(pb::GetTeamStatsRequest {})).await,
        Code::Unauthenticated,
    );
    let stats = b_team
        .get_team_stats(in_b(pb::GetTeamStatsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.total_items, 1, "B's team is zed alone");

    rpc("TokenService/GetJwks");
    let kids = |keys: Vec<pb::Jwk>| keys.into_iter().map(|k| k.kid).collect::<BTreeSet<_>>();
    let a_keys = kids(
        app.tokens()
            .get_jwks(pb::GetJwksRequest {})
            .await
            .unwrap()
            .into_inner()
            .keys,
    );
    let b_keys = kids(
        app.tokens()
            .get_jwks(in_b(pb::GetJwksRequest {}))
            .await
            .unwrap()
            .into_inner()
            .keys,
    );
    assert!(
        !b_keys.is_empty() && a_keys.is_disjoint(&b_keys),
        "{a_keys:?} {b_keys:?}"
    );

    rpc("ActivationService/GetActivationStrategy");
    let status = app
        .activation()
        .get_activation_strategy(in_b(pb::GetActivationStrategyRequest {
            user_id: bob.id.clone(),
            token: activation.token.clone(),
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::NotFound | Code::InvalidArgument),
        "{status:?}"
    );
    rpc("ActivationService/ActivateUser");
    let status = app
        .activation()
        .activate_user(in_b(pb::ActivateUserRequest {
            user_id: bob.id.clone(),
            token: activation.token.clone(),
            password: Some(PASSWORD.into()),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::NotFound | Code::InvalidArgument),
        "{status:?}"
    );
    rpc("ActivationService/ActivateUserWithCode");
    let status = app
        .activation()
        .activate_user_with_code(in_b(pb::ActivateUserWithCodeRequest {
            user_id: bob.id.clone(),
            code: activation.code.clone(),
            password: Some(PASSWORD.into()),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::NotFound | Code::InvalidArgument),
        "{status:?}"
    );
    rpc("ActivationService/ResetActivationToken");
    let mails = app.mailer.sent().len();
    let _ = app
        .activation_with(Bearer::token(&b_token))
        .reset_activation_token(pb::ResetActivationTokenRequest {
            email: A_INVITEE.into(),
            email_metadata: None,
        })
        .await;
    assert_eq!(app.mailer.sent().len(), mails, "no mail goes to A's user");

    // --- REST, as B ---
    let mut rest = Rest {
        app: &app,
        covered: &mut covered,
    };
    let host = "frontegg-vendor-host";
    let b_auth = format!("Bearer {b_token}");

    let jwks: Value = rest
        .call(Method::GET, "/.well-known/jwks.json", "/.well-known/jwks.json")
        .header(host, HOST_B)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rest_kids: BTreeSet<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rest_kids, b_keys);
    let config_path = "/identity/resources/configurations/v1";
    let b_config = ok(
        rest.call(Method::GET, config_path, config_path)
            .header("authorization", &b_auth)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let a_config = ok(Api::bearer(&app, &a_token).get(config_path).await, StatusCode::OK).await;
    assert_ne!(b_config["publicKey"], a_config["publicKey"]);
    let b_changed = ok(
        rest.call(Method::POST, config_path, config_path)
            .header("authorization", &b_auth)
            .json(&json!({"allowSignups": !a_config["allowSignups"].as_bool().unwrap()}))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b_changed["id"], b_config["id"]);
    let basic_path = "/identity/resources/configurations/v1/basic";
    ok(
        rest.call(Method::GET, basic_path, basic_path)
            .header("authorization", &b_auth)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let a_after = ok(Api::bearer(&app, &a_token).get(config_path).await, StatusCode::OK).await;
    assert_eq!(
        a_after["allowSignups"], a_config["allowSignups"],
        "B changed only its own"
    );

    // Roles, permissions and categories over REST, as B.
    let roles_path = "/identity/resources/roles/v1";
    let role_template = "/identity/resources/roles/v1/{roleId}";
    let role_path = format!("{roles_path}/{a_role}");
    let permissions_path = "/identity/resources/permissions/v1";
    let permission_template = "/identity/resources/permissions/v1/{permissionId}";
    let permission_path = format!("{permissions_path}/{a_permission}");
    let categories_path = "/identity/resources/permissions/v1/categories";
    let category_template = "/identity/resources/permissions/v1/categories/{categoryId}";
    let category_path = format!("{categories_path}/{a_category}");
    let listings = [
        (
            "/identity/resources/roles/v2",
            "/identity/resources/roles/v2?_limit=200".to_owned(),
        ),
        (
            "/identity/resources/roles/v2/distinct-tenants",
            "/identity/resources/roles/v2/distinct-tenants".to_owned(),
        ),
        (
            "/identity/resources/roles/v2/distinct-levels",
            "/identity/resources/roles/v2/distinct-levels".to_owned(),
        ),
        (roles_path, roles_path.to_owned()),
        (permissions_path, permissions_path.to_owned()),
        (categories_path, categories_path.to_owned()),
    ];
    for (template, path) in listings {
        let body = answered(
            rest.call(Method::GET, template, &path)
                .header("authorization", &b_auth)
                .send()
                .await
                .unwrap(),
            &[StatusCode::OK],
        )
        .await;
        assert!(!body.contains(A_MARK), "{path}: {body}");
    }
    let attempts = [
        (
            Method::POST,
            roles_path,
            roles_path.to_owned(),
            json!([{"key": "x", "name": "x", "level": 1}]),
            Some(A_TENANT),
        ),
        (
            Method::PATCH,
            role_template,
            role_path.clone(),
            json!({"name": "taken"}),
            None,
        ),
        (Method::DELETE, role_template, role_path.clone(), json!({}), None),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/roles",
            format!("/identity/resources/users/v1/{}/roles", ann.id),
            json!({"roleIds": [a_role]}),
            Some(A_TENANT),
        ),
        (
            Method::DELETE,
            "/identity/resources/users/v1/{userId}/roles",
            format!("/identity/resources/users/v1/{}/roles", ann.id),
            json!({"roleIds": [a_role]}),
            Some(A_TENANT),
        ),
        (
            Method::GET,
            "/identity/resources/users/v3/roles",
            format!("/identity/resources/users/v3/roles?ids={}", ann.id),
            json!({}),
            Some(A_TENANT),
        ),
        (
            Method::POST,
            "/identity/resources/roles/v2",
            "/identity/resources/roles/v2".to_owned(),
            json!({"key": "x2", "name": "x", "baseRoleId": a_role, "permissionIds": []}),
            None,
        ),
        (
            Method::PUT,
            "/identity/resources/roles/v1/{roleId}/permissions",
            format!("{role_path}/permissions"),
            json!({"permissionIds": []}),
            None,
        ),
        (
            Method::PUT,
            "/identity/resources/roles/v1/{roleId}/tenant",
            format!("{role_path}/tenant"),
            json!({"tenantId": null}),
            None,
        ),
        (
            Method::POST,
            permissions_path,
            permissions_path.to_owned(),
            json!([{"key": "b.x", "name": "x", "categoryId": a_category}]),
            None,
        ),
        (
            Method::PATCH,
            permission_template,
            permission_path.clone(),
            json!({"name": "taken"}),
            None,
        ),
        (
            Method::DELETE,
            permission_template,
            permission_path.clone(),
            json!({}),
            None,
        ),
        (
            Method::PUT,
            "/identity/resources/permissions/v1/{permissionId}/roles",
            format!("{permission_path}/roles"),
            json!({"roleIds": [a_role]}),
            None,
        ),
        (
            Method::PUT,
            "/identity/resources/permissions/v1/classification",
            "/identity/resources/permissions/v1/classification".to_owned(),
            json!({"permissionIds": [a_permission], "type": "ALWAYS"}),
            None,
        ),
        (
            Method::PATCH,
            category_template,
            category_path.clone(),
            json!({"name": "taken"}),
            None,
        ),
        (
            Method::DELETE,
            category_template,
            category_path.clone(),
            json!({}),
            None,
        ),
    ];
    // Groups over REST, as B.
    let groups_path = "/identity/resources/groups/v1";
    let group_template = "/identity/resources/groups/v1/{id}";
    let group_path = format!("{groups_path}/{a_group}");
    let config_path = "/identity/resources/groups/v1/config";
    for (method, status) in [(Method::GET, StatusCode::OK), (Method::POST, StatusCode::CREATED)] {
        let body = answered(
            rest.call(method, config_path, config_path)
                .header("authorization", &b_auth)
                .json(&json!({"enabled": false}))
                .send()
                .await
                .unwrap(),
            &[status],
        )
        .await;
        assert!(body.contains("\"enabled\":false"), "{body}");
    }
    for tenant in ["beta", A_TENANT] {
        let listing = answered(
            rest.call(
                Method::GET,
                "/identity/resources/groups/v2",
                "/identity/resources/groups/v2",
            )
            .header("authorization", &b_auth)
            .header("frontegg-tenant-id", tenant)
            .send()
            .await
            .unwrap(),
            &[StatusCode::OK, StatusCode::NOT_FOUND],
        )
        .await;
        assert!(!listing.contains(&a_group), "{listing}");
    }
    let group_attempts = [
        (Method::GET, groups_path, groups_path.to_owned(), json!({})),
        (
            Method::POST,
            groups_path,
            groups_path.to_owned(),
            json!({"name": "in alpha"}),
        ),
        (
            Method::POST,
            "/identity/resources/groups/v1/bulkGet",
            "/identity/resources/groups/v1/bulkGet".to_owned(),
            json!({"groupsIds": [a_group]}),
        ),
        (Method::GET, group_template, group_path.clone(), json!({})),
        (
            Method::PATCH,
            group_template,
            group_path.clone(),
            json!({"name": "taken"}),
        ),
        (Method::DELETE, group_template, group_path.clone(), json!({})),
        (
            Method::POST,
            "/identity/resources/groups/v1/{groupId}/roles",
            format!("{group_path}/roles"),
            json!({"roleIds": [a_role]}),
        ),
        (
            Method::DELETE,
            "/identity/resources/groups/v1/{groupId}/roles",
            format!("{group_path}/roles"),
            json!({"roleIds": [a_role]}),
        ),
        (
            Method::POST,
            "/identity/resources/groups/v1/{groupId}/users",
            format!("{group_path}/users"),
            json!({"userIds": [ann.id]}),
        ),
        (
            Method::DELETE,
            "/identity/resources/groups/v1/{groupId}/users",
            format!("{group_path}/users"),
            json!({"userIds": [ann.id]}),
        ),
        (
            Method::GET,
            "/identity/resources/users/v3/groups",
            format!("/identity/resources/users/v3/groups?ids={}", ann.id),
            json!({}),
        ),
    ];
    for (method, template, path, body) in group_attempts {
        // By A's tenant, B finds no tenant; by its own, no group of A's (nor A's user in it).
        let mut statuses = Vec::new();
        for tenant in [A_TENANT, "beta"] {
            let response = rest
                .call(method.clone(), template, &path)
                .header("authorization", &b_auth)
                .header("frontegg-tenant-id", tenant)
                .json(&body)
                .send()
                .await
                .unwrap();
            statuses.push(response.status());
            let text = answered(
                response,
                &[
                    StatusCode::NOT_FOUND,
                    StatusCode::OK,
                    StatusCode::CREATED,
                    StatusCode::BAD_REQUEST,
                ],
            )
            .await;
            assert!(
                !text.contains(&a_group) && !text.contains(A_MARK),
                "{path}: {text}"
            );
        }
        assert_eq!(
            statuses[0],
            StatusCode::NOT_FOUND,
            "{method} {path} by A's tenant"
        );
    }
    for (method, template, path, body, tenant) in attempts {
        let mut request = rest
            .call(method, template, &path)
            .header("authorization", &b_auth)
            .json(&body);
        if let Some(tenant) = tenant {
            request = request.header("frontegg-tenant-id", tenant);
        }
        let response = request.send().await.unwrap();
        answered(response, &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST]).await;
    }
    // B's own category, created with A's category id: B's alone.
    let created = rest
        .call(Method::POST, categories_path, categories_path)
        .header("authorization", &b_auth)
        .json(&json!({"id": a_category, "name": "B's again"}))
        .send()
        .await
        .unwrap();
    answered(created, &[StatusCode::CREATED]).await;
    let deleted = Api::bearer(&app, &b_token).delete(&category_path).await;
    answered(deleted, &[StatusCode::OK]).await;

    for body in [
        json!({"clientId": b.client_id, "secret": SECRET}),
        json!({"clientId": CLIENT_ID, "secret": b_secret}),
    ] {
        let response = rest
            .call(Method::POST, "/auth/vendor", "/auth/vendor")
            .json(&body)
            .send()
            .await
            .unwrap();
        answered(response, &[StatusCode::UNAUTHORIZED]).await;
    }
    let login = "/identity/resources/auth/v1/user";
    let response = rest
        .call(Method::POST, login, login)
        .header(host, HOST_B)
        .json(&json!({"email": A_USER, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::UNAUTHORIZED]).await;
    let refresh = "/identity/resources/auth/v1/user/token/refresh";
    let response = rest
        .call(Method::POST, refresh, refresh)
        .header(host, HOST_B)
        .json(&json!({"refreshToken": ann_session.refresh_token}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::UNAUTHORIZED]).await;
    let logout = "/identity/resources/auth/v1/logout";
    for request in [
        rest.call(Method::POST, logout, logout)
            .json(&json!({"refreshToken": ann_session.refresh_token})),
        rest.call(Method::POST, logout, logout)
            .bearer_auth(&ann_session.access_token),
    ] {
        let response = request.header(host, HOST_B).send().await.unwrap();
        assert!(!response.status().is_server_error(), "{response:?}");
    }
    let activate = "/identity/resources/users/v1/activate";
    let response = rest
        .call(Method::POST, activate, activate)
        .header(host, HOST_B)
        .json(&json!({"userId": bob.id, "token": activation.token, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST]).await;
    let with_code = "/identity/resources/users/v1/activate/code";
    let response = rest
        .call(Method::POST, with_code, with_code)
        .header(host, HOST_B)
        .json(&json!({"userId": bob.id, "token": activation.code, "code": activation.code, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST]).await;
    let strategy = "/identity/resources/users/v1/activate/strategy";
    let response = rest
        .call(
            Method::GET,
            strategy,
            &format!("{strategy}?userId={}&token={}", bob.id, activation.token),
        )
        .header(host, HOST_B)
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST]).await;
    let reset = "/identity/resources/users/v1/activate/reset";
    let response = rest
        .call(Method::POST, reset, reset)
        .header("authorization", &b_auth)
        .json(&json!({"email": A_INVITEE, "emailMetadata": {}}))
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_server_error(), "{response:?}");
    assert_eq!(app.mailer.sent().len(), mails, "no mail goes to A's user");

    // Tenants.
    let tenants_v1 = "/tenants/resources/tenants/v1";
    let tenant_v1 = "/tenants/resources/tenants/v1/{tenantId}";
    let tenant_v2 = "/tenants/resources/tenants/v2/{tenantId}";
    let a_tenant_v1 = format!("{tenants_v1}/{A_TENANT}");
    let a_tenant_v2 = format!("/tenants/resources/tenants/v2/{A_TENANT}");
    for (method, template, path) in [
        (Method::GET, tenants_v1, tenants_v1.to_owned()),
        (
            Method::GET,
            "/tenants/resources/tenants/v2",
            "/tenants/resources/tenants/v2".to_owned(),
        ),
        (
            Method::GET,
            "/tenants/resources/tenants/v2",
            "/tenants/resources/tenants/v2?_filter=alpha".to_owned(),
        ),
    ] {
        let response = rest
            .call(method, template, &path)
            .header("authorization", &b_auth)
            .send()
            .await
            .unwrap();
        let body = answered(response, &[StatusCode::OK]).await;
        assert!(!leaks(&body, &a_ids), "{path}: {body}");
    }
    for (method, template, path, body) in [
        (Method::GET, tenant_v1, a_tenant_v1.clone(), None),
        (Method::GET, tenant_v2, a_tenant_v2.clone(), None),
        (
            Method::PUT,
            tenant_v1,
            a_tenant_v1.clone(),
            Some(json!({"name": "Taken"})),
        ),
        (
            Method::PUT,
            tenant_v2,
            a_tenant_v2.clone(),
            Some(json!({"name": "Taken"})),
        ),
        (Method::DELETE, tenant_v1, a_tenant_v1.clone(), None),
        (
            Method::POST,
            "/tenants/resources/tenants/v1/{tenantId}/metadata",
            format!("{a_tenant_v1}/metadata"),
            Some(json!({"metadata": {"plan": "taken"}})),
        ),
        (
            Method::DELETE,
            "/tenants/resources/tenants/v1/{tenantId}/metadata/{key}",
            format!("{a_tenant_v1}/metadata/plan"),
            None,
        ),
    ] {
        let mut request = rest
            .call(method, template, &path)
            .header("authorization", &b_auth);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        answered(response, &[StatusCode::NOT_FOUND]).await;
    }
    let response = rest
        .call(Method::POST, tenants_v1, tenants_v1)
        .header("authorization", &b_auth)
        .json(&json!({"tenantId": "beta-child", "name": "Child", "parentTenantId": A_TENANT}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND]).await;

    // Users.
    let users_v1 = "/identity/resources/users/v1";
    let user_v1 = "/identity/resources/users/v1/{userId}";
    let ann_v1 = format!("{users_v1}/{}", ann.id);
    for (template, path) in [
        (
            "/identity/resources/users/v3",
            "/identity/resources/users/v3".to_owned(),
        ),
        (users_v1, users_v1.to_owned()),
        (
            "/identity/resources/users/v3",
            format!("/identity/resources/users/v3?_email={A_USER}"),
        ),
        (
            "/identity/resources/users/v3",
            format!("/identity/resources/users/v3?ids={}", ann.id),
        ),
        (
            "/identity/resources/users/v1/query/phrase",
            "/identity/resources/users/v1/query/phrase?_phraseSearchContains=alpha".to_owned(),
        ),
    ] {
        let response = rest
            .call(Method::GET, template, &path)
            .header("authorization", &b_auth)
            .send()
            .await
            .unwrap();
        let body = answered(response, &[StatusCode::OK]).await;
        assert!(!leaks(&body, &a_ids), "{path}: {body}");
    }
    let response = rest
        .call(
            Method::GET,
            "/identity/resources/users/v3",
            "/identity/resources/users/v3",
        )
        .header("authorization", &b_auth)
        .header("frontegg-tenant-id", A_TENANT)
        .send()
        .await
        .unwrap();
    let body = answered(response, &[StatusCode::OK, StatusCode::NOT_FOUND]).await;
    assert!(!leaks(&body, &a_ids), "{body}");
    let vendor_user = "/identity/resources/vendor-only/users/v1/{userId}";
    for (method, template, path, body) in [
        (Method::GET, user_v1, ann_v1.clone(), None),
        (
            Method::GET,
            vendor_user,
            format!("/identity/resources/vendor-only/users/v1/{}", ann.id),
            None,
        ),
        (
            Method::GET,
            "/identity/resources/users/v1/email",
            format!("/identity/resources/users/v1/email?email={A_USER}"),
            None,
        ),
        (
            Method::PUT,
            user_v1,
            ann_v1.clone(),
            Some(json!({"name": "Taken"})),
        ),
        (Method::DELETE, user_v1, ann_v1.clone(), None),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/tenant",
            format!("{ann_v1}/tenant"),
            Some(json!({"tenantId": "beta"})),
        ),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/tenant",
            format!("{users_v1}/{}/tenant", zed.id),
            Some(json!({"tenantId": A_TENANT})),
        ),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/lock",
            format!("{ann_v1}/lock"),
            None,
        ),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/unlock",
            format!("{ann_v1}/unlock"),
            None,
        ),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/verify",
            format!("{users_v1}/{}/verify", bob.id),
            None,
        ),
        (
            Method::PUT,
            "/identity/resources/users/v1/{userId}/tenant",
            format!("{ann_v1}/tenant"),
            Some(json!({"tenantId": A_TENANT})),
        ),
        (
            Method::PUT,
            "/identity/resources/users/v1/{userId}/tenant",
            format!("{users_v1}/{}/tenant", zed.id),
            Some(json!({"tenantId": A_TENANT})),
        ),
        (
            Method::PUT,
            "/identity/resources/users/v1/{userId}/superuser",
            format!("{ann_v1}/superuser"),
            Some(json!({"superUser": true})),
        ),
        (
            Method::PUT,
            "/identity/resources/users/v1/{userId}/invisible",
            format!("{ann_v1}/invisible"),
            Some(json!({"invisible": true})),
        ),
        (
            Method::POST,
            "/identity/resources/users/v1/{userId}/links/generate-activation-token",
            format!("{users_v1}/{}/links/generate-activation-token", bob.id),
            None,
        ),
        (
            Method::POST,
            "/identity/resources/vendor-only/users/v1",
            "/identity/resources/vendor-only/users/v1".to_owned(),
            Some(json!({"tenantId": A_TENANT, "email": "new@beta.test"})),
        ),
        (
            Method::PATCH,
            "/identity/resources/vendor-only/users/v1/{userId}/roles/bulk",
            format!("/identity/resources/vendor-only/users/v1/{}/roles/bulk", ann.id),
            Some(json!({"addRoleIds": [a_role]})),
        ),
        (
            Method::GET,
            "/identity/resources/vendor-only/users/v1/bulk-roles/status/{taskId}",
            format!(
                "/identity/resources/vendor-only/users/v1/bulk-roles/status/{}",
                uuid::Uuid::new_v4()
            ),
            None,
        ),
    ] {
        let mut request = rest
            .call(method, template, &path)
            .header("authorization", &b_auth)
            .header("frontegg-tenant-id", A_TENANT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        answered(response, &[StatusCode::NOT_FOUND]).await;
    }
    for template in [users_v1, "/identity/resources/users/v2"] {
        let response = rest
            .call(Method::POST, template, template)
            .header("authorization", &b_auth)
            .header("frontegg-tenant-id", A_TENANT)
            .json(&json!({"email": "new@beta.test"}))
            .send()
            .await
            .unwrap();
        answered(response, &[StatusCode::NOT_FOUND]).await;
    }
    let response = rest
        .call(Method::PUT, users_v1, users_v1)
        .header("authorization", &b_auth)
        .header("frontegg-tenant-id", A_TENANT)
        .header("frontegg-user-id", &ann.id)
        .json(&json!({"name": "Taken"}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::NOT_FOUND]).await;

    // The signed-in user's own routes: A's token in B, and B's token in A.
    let me_routes = [
        (Method::GET, "/identity/resources/users/v2/me"),
        (Method::GET, "/identity/resources/users/v3/me"),
        (Method::PUT, "/identity/resources/users/v2/me"),
        (Method::GET, "/identity/resources/users/v1/me/tenants"),
        (Method::GET, "/identity/resources/users/v2/me/tenants"),
        (Method::GET, "/identity/resources/users/v3/me/tenants"),
        (Method::GET, "/identity/resources/users/v1/me/authorization"),
        (Method::PUT, "/identity/resources/users/v1/tenant"),
    ];
    for (method, path) in me_routes {
        for (token, vendor_host) in [
            (&ann_session.access_token, Some(HOST_B)),
            (&zed_session.access_token, None),
        ] {
            let mut request = rest
                .call(method.clone(), path, path)
                .bearer_auth(token)
                .json(&json!({"name": "Taken"}));
            if let Some(vendor_host) = vendor_host {
                request = request.header(host, vendor_host);
            }
            let response = request.send().await.unwrap();
            answered(response, &[StatusCode::UNAUTHORIZED]).await;
        }
    }

    // The team routes: A's token in B is no one, and B's user reaches none of A's members.
    let members = "/team/resources/members/v1";
    let member = "/team/resources/members/v1/{id}";
    for (method, template, path, body) in [
        (Method::GET, members, members.to_owned(), None),
        (
            Method::PUT,
            members,
            members.to_owned(),
            Some(json!({"id": ann.id, "roleIds": [a_role]})),
        ),
        (Method::DELETE, member, format!("{members}/{}", ann.id), None),
        (
            Method::GET,
            "/team/resources/roles/v1",
            "/team/resources/roles/v1".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/team/resources/stats/v1/members",
            "/team/resources/stats/v1/members".to_owned(),
            None,
        ),
    ] {
        let mut request = rest
            .call(method.clone(), template, &path)
            .bearer_auth(&ann_session.access_token)
            .header(host, HOST_B);
        if let Some(body) = &body {
            request = request.json(body);
        }
        answered(request.send().await.unwrap(), &[StatusCode::UNAUTHORIZED]).await;
        let mut request = rest
            .call(method.clone(), template, &path)
            .bearer_auth(&zed_session.access_token)
            .header(host, HOST_B);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let body = if method == Method::GET {
            answered(response, &[StatusCode::OK]).await
        } else {
            answered(response, &[StatusCode::NOT_FOUND]).await
        };
        assert!(!leaks(&body, &a_ids) && !body.contains(&a_role), "{path}: {body}");
    }

    // B's own user cannot switch to A's tenant over REST either.
    let switch = "/identity/resources/users/v1/tenant";
    let response = rest
        .call(Method::PUT, switch, switch)
        .bearer_auth(&zed_session.access_token)
        .header(host, HOST_B)
        .json(&json!({"tenantId": A_TENANT}))
        .send()
        .await
        .unwrap();
    answered(response, &[StatusCode::NOT_FOUND]).await;

    // B's own namespace holds the same names without touching A's.
    b_tenants
        .create_tenant(pb::CreateTenantRequest {
            tenant_id: A_TENANT.into(),
            name: "B's alpha".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    b_users
        .create_user(pb::CreateUserRequest {
            tenant_id: A_TENANT.into(),
            email: A_USER.into(),
            name: "Not Ann".into(),
            password: Some("another password entirely".into()),
            ..Default::default()
        })
        .await
        .unwrap();

    // --- A is as it was, and its sessions and tokens still work ---
    assert_eq!(a_state(&app, &a_token).await, before, "A changed");
    assert_eq!(
        a_groups_state(&app, &a_token).await,
        groups_before,
        "A's groups changed"
    );
    app.validate(&ann_session.access_token)
        .await
        .expect("A's session survived");
    let refreshed = app
        .auth()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: ann_session.refresh_token.clone(),
        })
        .await
        .expect("A's refresh token was neither used nor revoked from B");
    assert!(refreshed.into_inner().authentication.is_some());
    app.activation()
        .activate_user(pb::ActivateUserRequest {
            user_id: bob.id.clone(),
            token: activation.token.clone(),
            password: Some(PASSWORD.into()),
            ..Default::default()
        })
        .await
        .expect("A's activation token still works");
    app.login(A_USER, PASSWORD).await;

    // --- Every operation served was tried ---
    let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let mut served: BTreeSet<String> = pool
        .services()
        .filter(|service| service.package_name() == "identity.v1")
        .flat_map(|service| {
            service
                .methods()
                .map(|method| format!("{}/{}", service.name(), method.name()))
                .collect::<Vec<_>>()
        })
        .collect();
    let document = ok(Api::anonymous(&app).get("/openapi.json").await, StatusCode::OK).await;
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if !["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            served.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    served.retain(|operation| {
        !NOT_ENVIRONMENT_DATA
            .iter()
            .any(|excluded| match excluded.strip_suffix('*') {
                Some(prefix) => operation.starts_with(prefix),
                None => operation == excluded,
            })
    });
    for sample in [
        "UserService/LockUser",
        "POST /auth/vendor",
        "GET /identity/resources/users/v3",
    ] {
        assert!(served.contains(sample), "{sample} is served: {served:?}");
    }
    let untried: Vec<_> = served.difference(&covered).collect();
    assert!(
        untried.is_empty(),
        "operations served but not tried from another environment: {untried:?}"
    );
    let unknown: Vec<_> = covered.difference(&served).collect();
    assert!(unknown.is_empty(), "tried but not served: {unknown:?}");
}

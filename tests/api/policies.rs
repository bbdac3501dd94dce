//! Every RPC's declared policy (`(identity.v1.policy)` in the proto): that every RPC has one,
//! that every REST route of the contract is served by exactly one RPC, and that each kind of
//! caller a policy leaves out is refused, over gRPC and over REST alike.

use prost_reflect::{DescriptorPool, Value as Reflected};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sigil::transport::{
    grpc::pb,
    policy::{Kind, POLICIES, Policy},
};
use tonic::{Code, metadata::MetadataValue};

use crate::{
    environment_admin::{ADMIN_TOKEN, spawn_administered_app},
    helpers::TestApp,
};

const PASSWORD: &str = "correct horse battery";

/// Routes of the gateway outside Frontegg's contract, open to anyone.
const OPEN_ROUTES: &[&str] = &["healthz", "livez", "readyz", "openapi"];

#[test]
fn every_rpc_declares_who_may_call_it() {
    let pool = DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).unwrap();
    let policy = pool.get_extension_by_name("identity.v1.policy").unwrap();
    let mut rpcs = 0;
    for service in pool.services().filter(|s| s.package_name() == "identity.v1") {
        for method in service.methods() {
            rpcs += 1;
            let path = format!("/{}/{}", service.full_name(), method.name());
            let options = method.options();
            assert!(options.has_extension(&policy), "{path} declares no policy");
            let value = options.get_extension(&policy);
            let callers = value.as_message().unwrap().get_field_by_name("callers").unwrap();
            let Reflected::List(callers) = &*callers else {
                panic!("{path}: callers is not a list");
            };
            assert!(!callers.is_empty(), "{path} allows no caller");
            assert!(
                callers.iter().all(|c| c.as_enum_number() != Some(0)),
                "{path} allows CALLER_UNSPECIFIED"
            );
            let table = POLICIES.iter().find(|p| p.rpc == path);
            assert!(table.is_some(), "{path} is missing from the policy table");
        }
    }
    assert_eq!(rpcs, POLICIES.len());
}

/// `(method, path, operationId)` of every operation of the gateway's OpenAPI document.
async fn documented_operations(app: &TestApp) -> Vec<(Method, String, String)> {
    let document: Value = reqwest::get(format!("http://{}/openapi.json", app.http_addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let Some(id) = operation["operationId"].as_str() else {
                continue;
            };
            operations.push((method, path.clone(), id.to_owned()));
        }
    }
    operations
}

#[tokio::test]
async fn every_route_of_the_contract_is_served_by_exactly_one_rpc() {
    let app = crate::helpers::spawn_app().await;
    let operations = documented_operations(&app).await;
    for (method, path, id) in &operations {
        if OPEN_ROUTES.contains(&id.as_str()) {
            continue;
        }
        let claimed: Vec<&Policy> = POLICIES
            .iter()
            .filter(|p| p.rest.contains(&id.as_str()))
            .collect();
        assert_eq!(
            claimed.len(),
            1,
            "{method} {path} ({id}) is served by {claimed:?}"
        );
    }
    // And no policy claims an operation the gateway does not serve.
    for policy in POLICIES {
        for id in policy.rest {
            assert!(
                operations.iter().any(|(_, _, served)| served == id),
                "{} claims {id}, which no route serves",
                policy.rpc
            );
        }
    }
}

/// A kind of credential a test presents.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Presented {
    Nothing,
    Garbage,
    Environment,
    User,
    Operator,
}

impl Presented {
    const ALL: [Presented; 5] = [
        Presented::Nothing,
        Presented::Garbage,
        Presented::Environment,
        Presented::User,
        Presented::Operator,
    ];

    /// Whether `policy` lets this credential through.
    fn allowed_by(self, policy: &Policy) -> bool {
        let allows = |kind| policy.callers.contains(&kind);
        if allows(Kind::Operator) {
            return self == Presented::Operator;
        }
        allows(Kind::Public)
            || match self {
                Presented::Environment => allows(Kind::Environment),
                Presented::User => allows(Kind::User),
                _ => false,
            }
    }

    /// The refusal (status, reason) this credential meets where it is not allowed.
    fn refusal(self, policy: &Policy) -> (Code, &'static str) {
        if policy.callers.contains(&Kind::Operator) {
            return match self {
                Presented::Nothing => (Code::Unauthenticated, "MISSING_TOKEN"),
                _ => (Code::Unauthenticated, "INVALID_TOKEN"),
            };
        }
        match self {
            Presented::Nothing => (Code::Unauthenticated, "MISSING_TOKEN"),
            // The operator's token is no JWT either.
            Presented::Garbage | Presented::Operator => (Code::Unauthenticated, "INVALID_TOKEN"),
            Presented::Environment | Presented::User => (Code::PermissionDenied, "CALLER_NOT_ALLOWED"),
        }
    }
}

/// Reasons only the policy layer gives.
const LAYER_REFUSALS: &[&str] = &["CALLER_NOT_ALLOWED", "MISSING_PERMISSION"];

struct Credentials {
    environment: String,
    user: String,
}

impl Credentials {
    async fn of(app: &TestApp) -> Self {
        app.active_user("ann@example.com", PASSWORD).await;
        let user = app.login("ann@example.com", PASSWORD).await.access_token;
        Self {
            environment: app.env_token().await,
            user,
        }
    }

    fn token(&self, presented: Presented) -> Option<&str> {
        match presented {
            Presented::Nothing => None,
            Presented::Garbage => Some("not.a-token.at-all"),
            Presented::Environment => Some(&self.environment),
            Presented::User => Some(&self.user),
            Presented::Operator => Some(ADMIN_TOKEN),
        }
    }
}

fn reason(status: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

#[tokio::test]
async fn over_grpc_each_kind_of_caller_is_refused_where_the_policy_leaves_it_out() {
    let app = spawn_administered_app().await;
    let credentials = Credentials::of(&app).await;
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    for policy in POLICIES {
        for presented in Presented::ALL {
            grpc.ready().await.unwrap();
            // An empty message is a valid encoding of every request type.
            let mut request = tonic::Request::new(());
            if let Some(token) = credentials.token(presented) {
                let value = MetadataValue::try_from(format!("Bearer {token}")).unwrap();
                request.metadata_mut().insert("authorization", value);
            }
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            let answer = grpc.unary(request, policy.rpc.parse().unwrap(), codec).await;
            let label = format!("{} with {presented:?}", policy.rpc);
            if presented.allowed_by(policy) {
                if let Err(status) = answer {
                    let reason = reason(&status);
                    assert!(!LAYER_REFUSALS.contains(&reason.as_str()), "{label}: {status:?}");
                    if presented != Presented::Nothing && presented != Presented::Garbage {
                        assert_ne!(reason, "MISSING_TOKEN", "{label}: {status:?}");
                    }
                }
            } else {
                let status = answer.expect_err(&label);
                let (code, expected) = presented.refusal(policy);
                assert_eq!(
                    (status.code(), reason(&status).as_str()),
                    (code, expected),
                    "{label}"
                );
            }
        }
    }
}

#[tokio::test]
async fn over_rest_each_kind_of_caller_is_refused_where_the_policy_leaves_it_out() {
    let app = spawn_administered_app().await;
    let credentials = Credentials::of(&app).await;
    let client = reqwest::Client::new();
    for (method, path, id) in documented_operations(&app).await {
        let Some(policy) = Policy::for_operation(&id) else {
            continue;
        };
        // Every path parameter names something that does not exist.
        let concrete: String = path
            .split('/')
            .map(|part| if part.starts_with('{') { "missing" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for presented in Presented::ALL {
            if presented == Presented::Operator {
                continue; // No route of the gateway is the operator's.
            }
            let mut request = client.request(method.clone(), format!("http://{}{concrete}", app.http_addr));
            if let Some(token) = credentials.token(presented) {
                request = request.bearer_auth(token);
            }
            if method != Method::GET && method != Method::DELETE {
                request = request.json(&serde_json::json!({}));
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let code = body["errorCode"].as_str().unwrap_or_default().to_owned();
            let label = format!("{method} {path} ({id}) with {presented:?}: {status} {body}");
            if presented.allowed_by(policy) {
                assert!(!LAYER_REFUSALS.contains(&code.as_str()), "{label}");
            } else {
                let (grpc_code, expected) = presented.refusal(policy);
                let expected_status = match grpc_code {
                    Code::Unauthenticated => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::FORBIDDEN,
                };
                assert_eq!((status, code.as_str()), (expected_status, expected), "{label}");
            }
        }
    }
}

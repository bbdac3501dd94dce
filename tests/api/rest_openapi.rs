//! `/openapi.json` documents exactly the routes the gateway serves: every documented operation
//! is routed, and every request the router serves at a contract path (in any method) belongs to
//! a documented operation. A route cannot be added without its documentation.

use std::{collections::BTreeSet, path::PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::{
    helpers::spawn_app,
    http::{Api, ok},
};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Paths the gateway serves outside the contract.
const EXTRA_PATHS: [&str; 10] = [
    "/healthz",
    "/livez",
    "/readyz",
    "/.well-known/jwks.json",
    "/openapi.json",
    "/identity/resources/users/v3/me/tenants",
    // The admin portal's team routes, which the contract's documents leave out.
    "/team/resources/members/v1",
    "/team/resources/members/v1/{id}",
    "/team/resources/roles/v1",
    "/team/resources/stats/v1/members",
];

fn operations_tsv() -> PathBuf {
    match std::env::var("SIGIL_CONTRACT_DIR") {
        Ok(dir) => PathBuf::from(dir).join("operations.tsv"),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/frontegg-api/operations.tsv"),
    }
}

/// Every path of the contract, as (method, path template).
fn contract_operations() -> Vec<(String, String)> {
    let path = operations_tsv();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the contract's {} is needed: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<_> = lines.next().unwrap().split('\t').collect();
    let method = header.iter().position(|c| *c == "method").unwrap();
    let path = header.iter().position(|c| *c == "path").unwrap();
    lines
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .map(|cells| (cells[method].to_lowercase(), cells[path].to_owned()))
        .collect()
}

/// A concrete path for a template: each parameter becomes `probe`.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("probe");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether `path` is an instance of `template`.
fn matches(template: &str, path: &str) -> bool {
    let t: Vec<_> = template.split('/').collect();
    let p: Vec<_> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// Whether the router answered from its fallbacks: no route, or no such method at this path.
async fn unrouted(response: reqwest::Response) -> bool {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    matches!(
        (status, body["errorCode"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
            | (StatusCode::METHOD_NOT_ALLOWED, Some("METHOD_NOT_ALLOWED"))
    )
}

async fn document(api: &Api<'_>) -> Value {
    ok(api.get("/openapi.json").await, StatusCode::OK).await
}

/// (method, path template) of every documented operation.
fn documented(doc: &Value) -> Vec<(String, String)> {
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.push((method.to_owned(), path.clone()));
            }
        }
    }
    operations
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let api = Api::anonymous(&app);
    let doc = document(&api).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let operations = documented(&doc);
    assert!(operations.len() >= 40, "{operations:?}");
    for (method, template) in operations {
        let response = api
            .request(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &concrete(&template),
            )
            .send()
            .await
            .unwrap();
        assert!(
            !unrouted(response).await,
            "{method} {template} is documented but not routed"
        );
    }
}

#[tokio::test]
async fn every_routed_request_is_documented() {
    let app = spawn_app().await;
    let api = Api::anonymous(&app);
    let operations = documented(&document(&api).await);
    let mut paths: BTreeSet<String> = contract_operations().into_iter().map(|(_, p)| p).collect();
    paths.extend(EXTRA_PATHS.iter().map(|p| (*p).to_owned()));
    for template in &paths {
        let path = concrete(template);
        for method in METHODS {
            let response = api
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &path,
                )
                .send()
                .await
                .unwrap();
            if unrouted(response).await {
                continue;
            }
            assert!(
                operations.iter().any(|(m, t)| m == method && matches(t, &path)),
                "{} {path} is served but not documented in /openapi.json",
                method.to_uppercase()
            );
        }
    }
}

#[tokio::test]
async fn the_document_declares_schemas_errors_and_security() {
    let app = spawn_app().await;
    let doc = document(&Api::anonymous(&app)).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["environmentToken"]["scheme"], "bearer");
    assert_eq!(schemes["userToken"]["scheme"], "bearer");
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["errors", "errorCode"]));

    let contract: BTreeSet<(String, String)> = contract_operations().into_iter().collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let name = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|code| code.starts_with('2')),
                "{name} has no success"
            );
            for (code, response) in responses {
                if code.starts_with('4') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/ErrorBody", "{name} {code}");
                }
            }
            let secured = operation.get("security").is_some();
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{name} is authenticated but declares no 401"
                );
            }
            // Operations at the contract's paths carry its operation ids and full paths.
            let key = (method.to_owned(), path.clone());
            if contract.contains(&key) {
                assert!(operation["operationId"].is_string(), "{name}");
            }
        }
    }
    // Request bodies and list shapes are described, not left open.
    let create = &doc["paths"]["/tenants/resources/tenants/v1"]["post"];
    assert!(create["requestBody"]["required"].as_bool().unwrap_or(false));
    let users = &doc["paths"]["/identity/resources/users/v3"]["get"];
    let params: Vec<_> = users["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "_limit",
        "_offset",
        "_sortBy",
        "_order",
        "_email",
        "_tenantId",
        "ids",
    ] {
        assert!(params.contains(&name), "{name} missing from {params:?}");
    }
}

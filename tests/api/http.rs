//! A small HTTP client for the REST gateway's tests: requests with or without a bearer token,
//! and assertions on the contract's bodies.

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// Calls the gateway of `app`, with `token` as the bearer token when set.
pub struct Api<'a> {
    app: &'a TestApp,
    client: Client,
    token: Option<String>,
}

impl<'a> Api<'a> {
    /// Without credentials.
    pub fn anonymous(app: &'a TestApp) -> Self {
        Self {
            app,
            client: Client::builder().user_agent("rest-test/1.0").build().unwrap(),
            token: None,
        }
    }

    /// With `token` as the bearer token.
    pub fn bearer(app: &'a TestApp, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..Self::anonymous(app)
        }
    }

    /// With a fresh environment token of the test credentials.
    pub async fn environment(app: &'a TestApp) -> Self {
        let token = app.env_token().await;
        Self::bearer(app, &token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.app.http_addr, path)
    }

    /// A request to `path`, carrying the bearer token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.request(Method::DELETE, path).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path).json(&body).send().await.unwrap()
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.request(Method::PUT, path).json(&body).send().await.unwrap()
    }

    /// Creates tenant `tenant_id` named `name`; panics on failure.
    pub async fn create_tenant(&self, tenant_id: &str, name: &str) -> Value {
        let response = self
            .post(
                "/tenants/resources/tenants/v1",
                json!({"tenantId": tenant_id, "name": name}),
            )
            .await;
        ok(response, StatusCode::CREATED).await
    }

    /// Creates a user in `tenant_id` over the vendor-only route; panics on failure.
    pub async fn create_user(&self, tenant_id: &str, email: &str, password: Option<&str>) -> Value {
        let mut body = json!({"tenantId": tenant_id, "email": email});
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        let response = self.post("/identity/resources/vendor-only/users/v1", body).await;
        ok(response, StatusCode::CREATED).await
    }
}

/// Asserts `status` and returns the JSON body.
#[track_caller]
pub fn ok(response: Response, status: StatusCode) -> impl Future<Output = Value> {
    let caller = std::panic::Location::caller();
    async move {
        let actual = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(actual, status, "at {caller}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("at {caller}: not JSON: {text}"))
        }
    }
}

/// Asserts the contract's error body with `status` and `code`, and returns it.
#[track_caller]
pub fn error(response: Response, status: StatusCode, code: &'static str) -> impl Future<Output = Value> {
    let caller = std::panic::Location::caller();
    async move {
        let actual = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(actual, status, "at {caller}: {body}");
        assert_eq!(body["errorCode"], code, "at {caller}: {body}");
        let errors = body["errors"].as_array().expect("errors is an array");
        assert!(
            !errors.is_empty() && errors.iter().all(Value::is_string),
            "at {caller}: {body}"
        );
        body
    }
}

/// Asserts a 400 whose first error names `field`.
#[track_caller]
pub fn invalid(response: Response, field: &'static str) -> impl Future<Output = ()> {
    let caller = std::panic::Location::caller();
    async move {
        let actual = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(actual, StatusCode::BAD_REQUEST, "at {caller}: {body}");
        assert_eq!(body["errorCode"], "INVALID_ARGUMENT", "at {caller}: {body}");
        let first = body["errors"][0].as_str().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{field}:")),
            "at {caller}: expected an error about {field}: {body}"
        );
    }
}

/// Signs in over REST and returns the access token.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let response = Api::anonymous(app)
        .post(
            "/identity/resources/auth/v1/user",
            json!({"email": email, "password": password}),
        )
        .await;
    ok(response, StatusCode::OK).await["accessToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

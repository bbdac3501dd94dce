//! Environment authentication and the token every management RPC requires.

use std::time::Duration;

use sigil::transport::grpc::pb;
use tonic::Code;

use crate::helpers::{Bearer, CLIENT_ID, SECRET, TestApp, assert_error, spawn_app};

async fn authenticate(
    app: &TestApp,
    client_id: &str,
    secret: &str,
) -> Result<pb::AuthenticateVendorResponse, tonic::Status> {
    app.auth_client()
        .authenticate_vendor(pb::AuthenticateVendorRequest {
            client_id: client_id.into(),
            secret: secret.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn list_tenants(app: &TestApp, bearer: Bearer) -> Result<pb::ListTenantsResponse, tonic::Status> {
    app.tenants_with(bearer)
        .list_tenants(pb::ListTenantsRequest::default())
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn valid_credentials_get_a_token_that_opens_the_management_services() {
    let app = spawn_app().await;
    let response = authenticate(&app, CLIENT_ID, SECRET).await.unwrap();
    assert_eq!(response.expires_in, 3600);
    assert_eq!(response.token.split('.').count(), 3, "a JWT");
    list_tenants(&app, Bearer::token(&response.token)).await.unwrap();
}

#[tokio::test]
async fn a_wrong_secret_and_an_unknown_client_fail_alike() {
    let app = spawn_app().await;
    let wrong_secret = authenticate(&app, CLIENT_ID, "not-the-secret").await.unwrap_err();
    let unknown_client = authenticate(&app, "nobody", SECRET).await.unwrap_err();
    assert_error(&wrong_secret, Code::Unauthenticated, "INVALID_CREDENTIALS");
    assert_error(&unknown_client, Code::Unauthenticated, "INVALID_CREDENTIALS");
    assert_eq!(wrong_secret.message(), unknown_client.message());
    let empty = authenticate(&app, "", "").await.unwrap_err();
    assert_error(&empty, Code::Unauthenticated, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn management_calls_without_a_token_are_unauthenticated() {
    let app = spawn_app().await;
    let status = list_tenants(&app, Bearer::none()).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "MISSING_TOKEN");
    let status = app
        .users_with(Bearer::none())
        .get_user(pb::GetUserRequest { user_id: "x".into() })
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "MISSING_TOKEN");
    let status = list_tenants(&app, Bearer::raw("Basic dGVzdDp0ZXN0"))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "MISSING_TOKEN");
}

#[tokio::test]
async fn malformed_and_forged_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    let token = app.env_token().await;
    let status = list_tenants(&app, Bearer::token("not-a-jwt")).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    // Same header and claims, signature of another token: the signature check must catch it.
    let other = app.env_token().await;
    let mut parts: Vec<&str> = token.split('.').collect();
    let other_parts: Vec<&str> = other.split('.').collect();
    parts[2] = other_parts[2];
    let status = list_tenants(&app, Bearer::token(&parts.join(".")))
        .await
        .unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    // A token signed by another sigil (its own keys) is not accepted here.
    let stranger = spawn_app().await;
    let foreign = stranger.env_token().await;
    let status = list_tenants(&app, Bearer::token(&foreign)).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");

    // Unsigned ("alg": "none") tokens are refused.
    let unsigned = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        token.split('.').nth(1).unwrap()
    );
    let status = list_tenants(&app, Bearer::token(&unsigned)).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "INVALID_TOKEN");
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let app = spawn_app().await;
    let token = app.env_token().await;
    app.clock.advance(Duration::from_secs(3599));
    list_tenants(&app, Bearer::token(&token)).await.unwrap();
    app.clock.advance(Duration::from_secs(2));
    let status = list_tenants(&app, Bearer::token(&token)).await.unwrap_err();
    assert_error(&status, Code::Unauthenticated, "TOKEN_EXPIRED");
}

/// Sends raw bytes as a request body and ignores the response body.
struct RawCodec;
struct RawEncoder;
struct RawDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf;
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

#[tokio::test]
async fn a_request_that_does_not_decode_is_an_invalid_argument() {
    let app = spawn_app().await;
    let mut grpc = tonic::client::Grpc::new(app.channel.clone());
    grpc.ready().await.unwrap();
    // Field 1 (client_id) holding the byte 0xFF: not UTF-8.
    let status = grpc
        .unary(
            tonic::Request::new(vec![0x0a, 0x01, 0xff]),
            "/identity.v1.EnvironmentAuthService/AuthenticateVendor"
                .parse()
                .unwrap(),
            RawCodec,
        )
        .await
        .unwrap_err();
    crate::helpers::assert_invalid(&status, "request");
}

//! A client that knows nothing but the server's reflection, like grpcurl: it discovers the
//! services, builds requests from JSON at run time and calls every step of the management flow.

use std::collections::HashMap;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use serde_json::{Value, json};
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    transport::Channel,
};
use tonic_reflection::pb::{v1, v1alpha};

use crate::helpers::{CLIENT_ID, SECRET, spawn_app};

struct DynamicCodec(MessageDescriptor);
struct DynamicEncoder;
struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.0.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst).map_err(|e| Status::internal(e.to_string()))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Status> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}

/// Everything a reflection client knows: the methods it discovered, by "Service/Method".
struct ReflectedApi {
    channel: Channel,
    methods: HashMap<String, MethodDescriptor>,
}

impl ReflectedApi {
    async fn discover(channel: Channel) -> (Self, Vec<String>) {
        use v1::{
            server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
            server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new(channel.clone());
        let ask = |request: MessageRequest| v1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let mut stream = client
            .server_reflection_info(tokio_stream::iter(vec![ask(MessageRequest::ListServices(
                String::new(),
            ))]))
            .await
            .unwrap()
            .into_inner();
        let services: Vec<String> = match stream.message().await.unwrap().unwrap().message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                list.service.into_iter().map(|s| s.name).collect()
            }
            other => panic!("unexpected reflection answer {other:?}"),
        };
        let mut pool = DescriptorPool::new();
        let mut files: HashMap<String, prost_types::FileDescriptorProto> = HashMap::new();
        // Ask for each service's file, then for any imported file not yet known, as grpcurl does.
        let mut wanted: Vec<MessageRequest> = services
            .iter()
            .filter(|s| s.starts_with("identity.v1."))
            .map(|s| MessageRequest::FileContainingSymbol(s.clone()))
            .collect();
        while let Some(request) = wanted.pop() {
            let mut stream = client
                .server_reflection_info(tokio_stream::iter(vec![ask(request)]))
                .await
                .unwrap()
                .into_inner();
            match stream.message().await.unwrap().unwrap().message_response {
                Some(MessageResponse::FileDescriptorResponse(response)) => {
                    for bytes in response.file_descriptor_proto {
                        let file = prost_types::FileDescriptorProto::decode(bytes.as_slice()).unwrap();
                        files.insert(file.name().to_owned(), file);
                    }
                }
                other => panic!("unexpected reflection answer {other:?}"),
            }
            for file in files.values() {
                for dependency in &file.dependency {
                    let request = MessageRequest::FileByFilename(dependency.clone());
                    if !files.contains_key(dependency) && !wanted.contains(&request) {
                        wanted.push(request);
                    }
                }
            }
        }
        pool.add_file_descriptor_protos(files.into_values()).unwrap();
        let methods = pool
            .services()
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .map(|method| {
                (
                    format!("{}/{}", method.parent_service().name(), method.name()),
                    method,
                )
            })
            .collect();
        (Self { channel, methods }, services)
    }

    /// Calls `method` ("Service/Method") with a JSON request, as grpcurl -d would.
    async fn call(&self, method: &str, token: Option<&str>, body: Value) -> Result<Value, Status> {
        let method = self
            .methods
            .get(method)
            .unwrap_or_else(|| panic!("{method} was not discovered"));
        let message = DynamicMessage::deserialize(method.input(), body).unwrap();
        let mut request = tonic::Request::new(message);
        if let Some(token) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        grpc.ready().await.unwrap();
        let response = grpc
            .unary(request, path.parse().unwrap(), DynamicCodec(method.output()))
            .await?;
        Ok(serde_json::to_value(response.into_inner()).unwrap())
    }
}

#[tokio::test]
async fn a_reflection_only_client_runs_the_whole_management_flow() {
    let app = spawn_app().await;
    let (api, services) = ReflectedApi::discover(app.channel.clone()).await;
    for expected in [
        "identity.v1.EnvironmentAuthService",
        "identity.v1.TenantService",
        "identity.v1.UserService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            services.iter().any(|s| s == expected),
            "{expected} is listed: {services:?}"
        );
    }

    let auth = api
        .call(
            "EnvironmentAuthService/AuthenticateVendor",
            None,
            json!({"clientId": CLIENT_ID, "secret": SECRET}),
        )
        .await
        .unwrap();
    let token = auth["token"].as_str().unwrap().to_owned();
    let token = Some(token.as_str());

    let created = api
        .call(
            "TenantService/CreateTenant",
            token,
            json!({"tenantId": "acme", "name": "Acme"}),
        )
        .await
        .unwrap();
    assert_eq!(created["tenant"]["tenantId"], "acme");

    let mut ids = Vec::new();
    for n in 0..5 {
        let user = api
            .call(
                "UserService/CreateUser",
                token,
                json!({"tenantId": "acme", "email": format!("user{n}@acme.test"), "name": format!("User {n}")}),
            )
            .await
            .unwrap();
        ids.push(user["user"]["id"].as_str().unwrap().to_owned());
    }

    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = api
            .call(
                "UserService/ListUsers",
                token,
                json!({"tenantId": "acme", "limit": 2, "offset": offset, "sortBy": "USER_SORT_BY_EMAIL"}),
            )
            .await
            .unwrap();
        // The protobuf JSON mapping writes int64 as a string.
        assert_eq!(page["metadata"]["totalItems"], "5");
        assert_eq!(page["metadata"]["totalPages"], "3");
        for user in page["items"].as_array().unwrap() {
            seen.push(user["email"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|n| format!("user{n}@acme.test")).collect::<Vec<_>>()
    );

    let activation = api
        .call(
            "UserService/GenerateActivationToken",
            token,
            json!({"userId": ids[0]}),
        )
        .await
        .unwrap();
    assert_eq!(activation["userId"], ids[0].as_str());
    assert!(activation["token"].as_str().unwrap().len() >= 32);
    assert!(
        activation["link"]
            .as_str()
            .unwrap()
            .contains("/oauth/account/activate?userId=")
    );

    let refused = api
        .call("TenantService/GetTenant", None, json!({"tenantId": "acme"}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
}

#[tokio::test]
async fn the_older_v1alpha_reflection_protocol_is_served_too() {
    use v1alpha::{
        server_reflection_client::ServerReflectionClient, server_reflection_request::MessageRequest,
        server_reflection_response::MessageResponse,
    };
    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel.clone());
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    match stream.message().await.unwrap().unwrap().message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            assert!(list.service.iter().any(|s| s.name == "identity.v1.UserService"));
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

//! `identity.v1.ActivationService`.

use tonic::{Request, Response, Status};

use super::{
    auth::environment,
    context::client_info,
    pb::{self, activation_service_server::ActivationService},
    sign_in::authentication,
};
use crate::{
    domain::secret::Secret,
    service::{Activation, activation::Activate},
};

/// gRPC face of activation.
pub struct ActivationApi {
    activation: Activation,
}

impl ActivationApi {
    /// Serves `activation`.
    pub fn new(activation: Activation) -> Self {
        Self { activation }
    }
}

impl ActivationApi {
    /// Activates with the fields `read` takes from the request, and signs the user in.
    async fn activate<T>(
        &self,
        request: Request<T>,
        read: impl FnOnce(T) -> Activate,
    ) -> Result<Option<pb::AuthenticationResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let client = client_info(&request);
        let activate = read(request.into_inner());
        let auth = self.activation.activate(&environment, activate, client).await?;
        Ok(Some(authentication(auth)))
    }
}

/// A protobuf Struct as the JSON object it stands for.
fn struct_to_json(value: prost_types::Struct) -> serde_json::Value {
    fn convert(value: prost_types::Value) -> serde_json::Value {
        use prost_types::value::Kind;
        match value.kind {
            Some(Kind::NullValue(_)) | None => serde_json::Value::Null,
            Some(Kind::NumberValue(n)) => {
                serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into)
            }
            Some(Kind::StringValue(s)) => s.into(),
            Some(Kind::BoolValue(b)) => b.into(),
            Some(Kind::StructValue(s)) => struct_to_json(s),
            Some(Kind::ListValue(list)) => list.values.into_iter().map(convert).collect(),
        }
    }
    value.fields.into_iter().map(|(k, v)| (k, convert(v))).collect()
}

#[tonic::async_trait]
impl ActivationService for ActivationApi {
    async fn activate_user(
        &self,
        request: Request<pb::ActivateUserRequest>,
    ) -> Result<Response<pb::ActivateUserResponse>, Status> {
        let authentication = self
            .activate(request, |r| Activate {
                user_id: r.user_id,
                token: Secret::new(r.token),
                password: r.password.map(Secret::new),
                code: None,
                last_terms_check: r.last_terms_check,
            })
            .await?;
        Ok(Response::new(pb::ActivateUserResponse { authentication }))
    }

    async fn activate_user_with_code(
        &self,
        request: Request<pb::ActivateUserWithCodeRequest>,
    ) -> Result<Response<pb::ActivateUserWithCodeResponse>, Status> {
        let authentication = self
            .activate(request, |r| Activate {
                user_id: r.user_id,
                token: Secret::new(r.token),
                password: r.password.map(Secret::new),
                code: Some(Secret::new(r.code)),
                last_terms_check: r.last_terms_check,
            })
            .await?;
        Ok(Response::new(pb::ActivateUserWithCodeResponse { authentication }))
    }

    async fn get_activation_strategy(
        &self,
        request: Request<pb::GetActivationStrategyRequest>,
    ) -> Result<Response<pb::GetActivationStrategyResponse>, Status> {
        let environment = super::auth::scope(&request)?;
        let r = request.into_inner();
        let should_set_password = self
            .activation
            .should_set_password(&environment, &r.user_id, &r.token)
            .await?;
        Ok(Response::new(pb::GetActivationStrategyResponse {
            should_set_password,
        }))
    }

    async fn reset_activation_token(
        &self,
        request: Request<pb::ResetActivationTokenRequest>,
    ) -> Result<Response<pb::ResetActivationTokenResponse>, Status> {
        let scope = environment(&request)?;
        let r = request.into_inner();
        let metadata = r
            .email_metadata
            .map_or_else(|| serde_json::json!({}), struct_to_json);
        self.activation.reset(&scope, &r.email, metadata).await?;
        Ok(Response::new(pb::ResetActivationTokenResponse {}))
    }
}

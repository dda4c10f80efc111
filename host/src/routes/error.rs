//! Errors as the HTTP API answers them: a status and a JSON body with an `error` field.

use crate::admission::Busy;
use crate::node::{ActivateError, AddError, CreateError, RemoveError};
use crate::runtime::{ActivationError, LoadError};
use crate::store::StoreError;
use crate::values::ArgsError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carol_core::api::ErrorBody;
use serde_json::{Map, Value, json};

/// An error answer: status, message, and any further fields that help the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    details: Map<String, Value>,
    retry_after: Option<u32>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: Map::new(),
            retry_after: None,
        }
    }

    /// Adds a field to the JSON body.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Answers with `Retry-After: seconds`.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message,
            details: self.details,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<LoadError> for ApiError {
    fn from(error: LoadError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error.to_string())
    }
}

impl From<Busy> for ApiError {
    fn from(error: Busy) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()).retry_after(1)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if let StoreError::Removed(_) = error {
            return Self::new(StatusCode::GONE, error.to_string());
        }
        tracing::error!(%error, "storing failed");
        if let StoreError::Unavailable { .. } = error {
            return Self::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()).retry_after(1);
        }
        if error.is_disk_full() {
            let message = match error {
                StoreError::DiskFull { .. } => format!("{error}; nothing was stored"),
                _ => format!("no space left on the node's disk ({error}); nothing was stored"),
            };
            return Self::new(StatusCode::INSUFFICIENT_STORAGE, message);
        }
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the node could not store this ({error}); nothing was stored: try again later"),
        )
    }
}

impl From<AddError> for ApiError {
    fn from(error: AddError) -> Self {
        match error {
            AddError::Load(error) => error.into(),
            AddError::Store(error) => error.into(),
            AddError::Quota { quota, .. } => {
                Self::new(StatusCode::INSUFFICIENT_STORAGE, error.to_string()).with("quota", quota)
            }
            AddError::Busy(busy) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, busy.to_string()).retry_after(1)
            }
            AddError::Removed { ref reason, .. } => {
                let reason = reason.clone();
                Self::new(StatusCode::GONE, error.to_string()).with("reason", reason)
            }
        }
    }
}

impl From<CreateError> for ApiError {
    fn from(error: CreateError) -> Self {
        let status = match error {
            CreateError::UnknownBinary(_) => StatusCode::NOT_FOUND,
            CreateError::ParamsTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            CreateError::Store(error) => return error.into(),
            CreateError::Removed { ref reason, .. } => {
                let reason = reason.clone();
                return Self::new(StatusCode::GONE, error.to_string()).with("reason", reason);
            }
        };
        Self::new(status, error.to_string())
    }
}

impl From<RemoveError> for ApiError {
    fn from(error: RemoveError) -> Self {
        match error {
            RemoveError::Unknown(_) => Self::new(StatusCode::NOT_FOUND, error.to_string()),
            RemoveError::Store(error) => error.into(),
        }
    }
}

impl ApiError {
    /// A binary's or machine's answer once the operator removed it: 410 with the reason.
    pub fn gone(what: &str, removal: &crate::store::Removal) -> Self {
        Self::new(
            StatusCode::GONE,
            format!(
                "{what} was removed by this node's operator: {}",
                removal.reason
            ),
        )
        .with("reason", removal.reason.clone())
        .with("removed_at", removal.at)
    }
}

impl From<ActivateError> for ApiError {
    fn from(error: ActivateError) -> Self {
        match error {
            ActivateError::Busy(busy) => busy.into(),
            ActivateError::Failed(failed) => failed.into(),
        }
    }
}

impl From<ArgsError> for ApiError {
    fn from(error: ArgsError) -> Self {
        let param = match &error {
            ArgsError::Missing { param, .. }
            | ArgsError::Repeated { param }
            | ArgsError::Invalid { param, .. } => Some(param.clone()),
            ArgsError::Unexpected { given, .. } => Some(given.clone()),
            ArgsError::NotAnObject { .. } | ArgsError::NotJson { .. } => None,
            ArgsError::TooLarge { limit, .. } => {
                return Self::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
                    .with("limit_bytes", json!(limit));
            }
        };
        let answer = Self::new(StatusCode::BAD_REQUEST, error.to_string());
        match param {
            Some(param) => answer.with("parameter", param),
            None => answer,
        }
    }
}

impl From<ActivationError> for ApiError {
    fn from(error: ActivationError) -> Self {
        let message = error.to_string();
        match error {
            ActivationError::Trap {
                machine,
                activation,
                message: panic,
                trap,
                stderr,
            } => {
                tracing::warn!(%machine, activation, "activation trapped: {trap}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
                    .with("panic", panic)
                    .with("trap", trap)
                    .with("stderr", stderr)
            }
            ActivationError::MemoryLimit {
                machine,
                activation,
                limit,
            } => {
                tracing::warn!(%machine, activation, limit, "activation hit the memory limit");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
                    .with("limit_bytes", json!(limit))
            }
            ActivationError::Unsigned {
                machine,
                activation,
                agreed,
                threshold,
                others,
            } => {
                tracing::warn!(%machine, activation, agreed, threshold, ?others, "too few federation members signed");
                let answer = Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
                    .with("agreed", json!(agreed))
                    .with("threshold", json!(threshold));
                match others.is_empty() {
                    true => answer,
                    false => answer.with("others", json!(others)),
                }
            }
            ActivationError::NoOwnKey {
                machine,
                activation,
                ..
            } => {
                tracing::warn!(%machine, activation, "a machine's own key cannot be used on this member");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
            }
            ActivationError::TooMuchData {
                machine,
                activation,
                limit,
            } => {
                tracing::warn!(%machine, activation, limit, "activation handed the node too much data");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
                    .with("limit_bytes", json!(limit))
            }
            ActivationError::State {
                machine,
                activation,
                error: crate::store::StoreError::Unavailable { .. },
            }
            | ActivationError::StoreUnavailable {
                machine,
                activation,
                ..
            } => {
                tracing::warn!(%machine, activation, "the node's database is out of reach");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
                    .retry_after(1)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
            }
            ActivationError::State {
                machine,
                activation,
                error,
            } => Self::new(
                match error.is_disk_full() {
                    true => StatusCode::INSUFFICIENT_STORAGE,
                    false => StatusCode::INTERNAL_SERVER_ERROR,
                },
                message,
            )
            .with("machine", machine.to_string())
            .with("activation", activation),
            ActivationError::Timeout {
                machine,
                activation,
                limit,
            } => {
                tracing::warn!(%machine, activation, "activation timed out after {limit:?}");
                Self::new(StatusCode::GATEWAY_TIMEOUT, message)
                    .with("machine", machine.to_string())
                    .with("activation", activation)
                    .with("limit_ms", json!(limit.as_millis() as u64))
            }
        }
    }
}

//! The JSON error body every endpoint uses: `{"error": "..."}`.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::hub::HubError;
use crate::throttle;

/// `Retry-After` of a `503`: a full or restarting service, a Redis outage.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// Seconds to wait before trying again, for the statuses that mean "not now":
    /// sent as `Retry-After` on every path.
    pub fn retry_after(&self) -> Option<u64> {
        match self.status {
            StatusCode::TOO_MANY_REQUESTS => Some(throttle::RETRY_AFTER_SECS),
            StatusCode::SERVICE_UNAVAILABLE => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after();
        let body = Json(serde_json::json!({ "error": self.message }));
        let mut response = (self.status, body).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<HubError> for ApiError {
    fn from(error: HubError) -> Self {
        // A client over its own bound learns to slow down; anything else is the
        // server's trouble.
        let status = if error.is_client_limit() {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        Self {
            status,
            message: error.to_string(),
        }
    }
}

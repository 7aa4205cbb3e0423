//! `POST /publish`: the one way messages enter the system.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::AppState;
use crate::channel::ChannelName;
use crate::error::ApiError;
use crate::hub::{Hub, HubError};
use crate::id::Id;

/// Largest accepted request body.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    channel: ChannelName,
    data: Box<RawValue>,
}

#[derive(serde::Serialize)]
pub struct Published {
    id: Id,
}

pub async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Published>, ApiError> {
    if let Some(token) = &state.config.publish_token {
        authorize(&headers, token)?;
    }
    // The body limit layer rejects oversized bodies here; keep its status (413).
    let body = body.map_err(|rejection| ApiError {
        status: rejection.status(),
        message: format!("{} (the limit is {MAX_BODY} bytes)", rejection.body_text()),
    })?;
    let request: PublishRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid publish request: {e}; expected {{\"channel\": \"...\", \"data\": <json>}}"
        ))
    })?;
    let id = submit(&state.hub, request.channel, &request.data).await?;
    Ok(Json(Published { id }))
}

/// Stores and fans out `data`: the one path every message takes into the hub,
/// whichever transport it arrived on.
pub async fn submit(hub: &Hub, channel: ChannelName, data: &RawValue) -> Result<Id, HubError> {
    let id = hub.publish(channel, &compact(data)).await?;
    hub.events().publish_accepted();
    Ok(id)
}

/// Checks `Authorization: Bearer <token>` in constant time.
fn authorize(headers: &HeaderMap, token: &str) -> Result<(), ApiError> {
    if bearer(headers).is_some_and(|presented| token_matches(presented, token)) {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::UNAUTHORIZED,
            message: "publishing needs the header `Authorization: Bearer <PUBLISH_TOKEN>`".into(),
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
}

/// Compares in constant time, so response timing does not reveal the token.
pub fn token_matches(presented: &str, token: &str) -> bool {
    presented.len() == token.len()
        && presented
            .bytes()
            .zip(token.bytes())
            .fold(0, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// Drops the insignificant whitespace of already-validated JSON, so every transport
/// can put a message on one line (SSE `data:` lines end at a newline).
fn compact(json: &RawValue) -> Box<RawValue> {
    let text = json.get();
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c.is_ascii_whitespace() {
            continue;
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    RawValue::from_string(out).unwrap_or_else(|_| json.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn compact_keeps_whitespace_inside_strings_only() {
        let json = raw("{\n  \"a b\" : [1, 2],\r\n\t\"q\": \"x \\\" y\\n\"\n}");
        assert_eq!(compact(&json).get(), r#"{"a b":[1,2],"q":"x \" y\n"}"#);
    }

    #[test]
    fn authorization_needs_the_exact_bearer_token() {
        let mut headers = HeaderMap::new();
        assert!(authorize(&headers, "s3cret").is_err());
        headers.insert(header::AUTHORIZATION, "Bearer s3cre".parse().unwrap());
        assert!(authorize(&headers, "s3cret").is_err());
        headers.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(authorize(&headers, "s3cret").is_ok());
    }
}

//! `POST /publish`: the one way messages enter the system.
//!
//! Who may publish where is decided by [`Policy::may_publish`](crate::policy::Policy):
//! the `PUBLISH_TOKEN` (server to server, every channel) or a JWT whose `publish` claim
//! grants the channel, presented as `Authorization: Bearer <token>`. The `rt_token`
//! cookie never counts here: a browser adds it on its own, so any page the user visits
//! could publish in their name.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::AppState;
use crate::auth::{self, Cookie};
use crate::channel::ChannelName;
use crate::client_addr::ClientIp;
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
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Published>, ApiError> {
    let presented = auth::presented_in(&headers, &[], Cookie::Ignored);
    let caller = state
        .throttle
        .identify(&state.config.auth, client, presented)?;
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
    let policy = &state.config.policy;
    auth::decide(&caller, |who| policy.may_publish(&request.channel, who))?;
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
}

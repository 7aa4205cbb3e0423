//! Short polling: `GET /messages?channel=A&channel=B&cursor=<id>`.
//!
//! Every poll is answered at once with what is newer than the cursor. The cursor in
//! the response is also its `ETag`, so a client (or the browser's cache) that sends
//! it back in `If-None-Match` gets an empty 304 while nothing changed. The cursor is
//! all the state there is, so any instance can answer any poll.
//!
//! Every poll is checked against the policy: the token (`Authorization: Bearer`, the
//! `rt_token` cookie, or `?token=`) and
//! [`Policy::may_subscribe`](crate::policy::Policy::may_subscribe).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::{BufMut, Bytes, BytesMut};

use crate::AppState;
use crate::auth::{self, Cookie};
use crate::client_addr::ClientIp;
use crate::engine::events::{Delivery, Transport};
use crate::error::ApiError;
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params;

/// Messages per response: a client far behind catches up over several polls instead
/// of in one unbounded body.
const MAX_MESSAGES: usize = 1000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/messages", get(messages))
}

/// Encodes a message as its JSON envelope; responses join these with commas.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    serde_json::to_vec(envelope)
        .map(Bytes::from)
        .unwrap_or_default()
}

async fn messages(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let channels = params::channels(&query)?;
    let token = auth::presented_in(&headers, &query, Cookie::Accepted);
    // A token that fails verification counts as none: public channels still open.
    let caller = state.throttle.identify(&state.config.auth, client, token)?;
    let policy = &state.config.policy;
    auth::decide(&caller, |who| policy.may_subscribe_all(&channels, who))?;
    let cursor = params::id(&query, "cursor")?;
    // Cheap when nothing changed: the hub compares each channel's newest id with the
    // cursor before it touches any history.
    let mut batch = state.hub.read(&channels, cursor).await?;
    // Ids are in order, so the cursor of a truncated batch resumes right after it.
    if batch.messages.len() > MAX_MESSAGES {
        batch.messages.truncate(MAX_MESSAGES);
        batch.cursor = batch.messages[MAX_MESSAGES - 1].id;
    }

    let cursor = batch.cursor.to_string();
    let mut response = if !batch.reset && if_none_match(&headers, &cursor) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        if batch.reset {
            state.events.reset_sent(Transport::ShortPoll);
        }
        if !batch.messages.is_empty() {
            let bytes = batch.messages.iter().map(|m| m.wire.len()).sum();
            let delivery = Delivery::one_write(batch.messages.len(), bytes);
            state.events.delivered(delivery);
        }
        let poll_interval_ms = state.config.poll_interval.as_millis();
        reply(&batch.messages, batch.cursor, batch.reset, poll_interval_ms)
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{cursor}\"")) {
        headers.insert(header::ETAG, etag);
    }
    // Browsers may store the answer but must revalidate it on every poll.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Whether an `If-None-Match` header lists the entity tag `"<opaque>"` or is `*`. The
/// comparison is weak (`W/"1"` matches `"1"`), as RFC 9110 prescribes for this header.
fn if_none_match(headers: &HeaderMap, opaque: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        let mut rest = value.as_bytes();
        loop {
            let start = rest
                .iter()
                .position(|&b| b != b',' && !b.is_ascii_whitespace())
                .unwrap_or(rest.len());
            rest = &rest[start..];
            if rest.starts_with(b"*") {
                return true;
            }
            // An entity tag is a quoted string without inner quotes.
            let tag = rest.strip_prefix(b"W/").unwrap_or(rest);
            let Some(tag) = tag.strip_prefix(b"\"") else {
                return false;
            };
            let Some(end) = tag.iter().position(|&b| b == b'"') else {
                return false;
            };
            if &tag[..end] == opaque.as_bytes() {
                return true;
            }
            rest = &tag[end + 1..];
        }
    })
}

/// `{"messages": [...], "cursor": "<id>", "poll_interval_ms": N}`, plus
/// `"reset": true` when history could not cover the cursor, joined from the
/// envelopes encoded at publish time.
fn reply(messages: &[Arc<Message>], cursor: Id, reset: bool, poll_interval_ms: u128) -> Response {
    let size = messages.iter().map(|m| m.wire.len() + 1).sum::<usize>();
    let mut body = BytesMut::with_capacity(size + 96);
    body.put_slice(b"{\"messages\":[");
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            body.put_u8(b',');
        }
        body.put_slice(&message.wire);
    }
    body.put_slice(
        format!("],\"cursor\":\"{cursor}\",\"poll_interval_ms\":{poll_interval_ms}").as_bytes(),
    );
    if reset {
        body.put_slice(b",\"reset\":true");
    }
    body.put_u8(b'}');
    ([(header::CONTENT_TYPE, "application/json")], body.freeze()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(values: &[&str], cursor: &str) -> bool {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::IF_NONE_MATCH, value.parse().unwrap());
        }
        if_none_match(&headers, cursor)
    }

    #[test]
    fn if_none_match_compares_weakly_across_lists() {
        assert!(matches(&["\"7\""], "7"));
        assert!(matches(&["W/\"7\""], "7"));
        assert!(matches(&["\"1\", W/\"7\""], "7"));
        assert!(matches(&["\"1\"", "\"7\""], "7"));
        assert!(matches(&["*"], "7"));
    }

    #[test]
    fn if_none_match_rejects_other_and_malformed_tags() {
        assert!(!matches(&[], "7"));
        assert!(!matches(&["\"70\""], "7"));
        assert!(!matches(&["7"], "7"));
        assert!(!matches(&["\"7"], "7"));
        assert!(!matches(&["\"1\" \"7"], "7"));
        assert!(!matches(&["\"a,\"7\"\""], "7"));
        assert!(!matches(&["w/\"7\""], "7"));
    }
}

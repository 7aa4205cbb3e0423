//! `POST /publish`: the one way messages enter the system, and the rules every
//! message's content follows on every path (`POST /publish` and WebSocket `publish`
//! frames alike: both hand [`Content`] to [`submit`], which only [`Content::check`]
//! makes).
//!
//! Who may publish where is decided by [`Policy::may_publish`](crate::policy::Policy):
//! the `PUBLISH_TOKEN` (server to server, every channel) or a JWT whose `publish` claim
//! grants the channel, presented as `Authorization: Bearer <token>`. The `rt_token`
//! cookie never counts here: a browser adds it on its own, so any page the user visits
//! could publish in their name.
//!
//! A request is refused in this order, so that a client learns about the body's rules
//! only once it may publish at all:
//!
//! 1. `401`/`403`: the caller may publish nowhere (checked before the body is read);
//! 2. `415`: `Content-Type` is not `application/json` (parameters such as
//!    `; charset=utf-8` are fine). A cross-site HTML form or a no-cors `fetch` can only
//!    send `text/plain`, form or multipart bodies, so this refuses them; a page that
//!    sets `application/json` needs a CORS preflight, which only `ALLOWED_ORIGINS` pass;
//! 3. `413`: the body is over [`MAX_BODY`];
//! 4. `400`: not a publish request; then `403` if the channel is not granted;
//! 5. `400`: the `data` breaks a content rule: nested deeper than [`MAX_DEPTH`], a lone
//!    UTF-16 surrogate escape (`"\ud800"`), or a number out of the range of a double
//!    (`1e999999`). Common client parsers refuse such JSON, so it is never stored and
//!    replayed to them.

use std::fmt;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mime::Mime;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::error::Category;
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
/// Deepest nesting of arrays and objects accepted in `data`: well within what client
/// parsers take (serde_json stops at 128) and the recursion any of them can afford.
pub const MAX_DEPTH: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishRequest {
    channel: ChannelName,
    data: Box<RawValue>,
}

#[derive(Serialize)]
pub struct Published {
    id: Id,
}

/// `POST /publish`, refused in the order the module's documentation gives.
pub async fn publish(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Published>, ApiError> {
    let presented = auth::presented_in(&headers, &[], Cookie::Ignored);
    let caller = state
        .throttle
        .identify(&state.config.auth, client, presented)?;
    let policy = &state.config.policy;
    auth::decide(&caller, |who| policy.may_publish_anywhere(who))?;
    json_content_type(&headers)?;
    let body = read_body(body).await?;
    let request: PublishRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid publish request: {e}; expected {{\"channel\": \"...\", \"data\": <json>}}"
        ))
    })?;
    auth::decide(&caller, |who| policy.may_publish(&request.channel, who))?;
    let content = Content::check(&request.data)
        .map_err(|e| ApiError::bad_request(format!("invalid data: {e}")))?;
    let id = submit(&state.hub, request.channel, content).await?;
    Ok(Json(Published { id }))
}

/// `415` unless the one `Content-Type` is `application/json`, with any parameters but a
/// `charset` other than UTF-8 (JSON is UTF-8).
fn json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let media_type = match (values.next(), values.next()) {
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|value| value.parse::<Mime>().ok()),
        _ => None,
    };
    let is_json = media_type.is_some_and(|media_type| {
        media_type.essence_str() == mime::APPLICATION_JSON.essence_str()
            && media_type
                .get_param(mime::CHARSET)
                .is_none_or(|charset| charset == mime::UTF_8)
    });
    if is_json {
        Ok(())
    } else {
        Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message: "send the publish request as `Content-Type: application/json`".into(),
        })
    }
}

/// Reads at most [`MAX_BODY`] bytes of `body`: `413` beyond.
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("the request body is over the limit of {MAX_BODY} bytes"),
        }),
        Err(e) => Err(ApiError::bad_request(format!(
            "cannot read the request body: {e}"
        ))),
    }
}

/// A message's `data` that follows the content rules; only [`Content::check`] makes one,
/// so nothing reaches [`submit`] unchecked.
#[derive(Clone, Copy)]
pub struct Content<'a>(&'a RawValue);

/// Why `data` was refused, and where.
#[derive(Debug)]
pub struct ContentError {
    rule: Rule,
    line: usize,
    column: usize,
}

#[derive(Debug)]
enum Rule {
    Depth,
    Surrogate,
    Number,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = match self.rule {
            Rule::Depth => format!("arrays and objects are nested deeper than {MAX_DEPTH}"),
            Rule::Surrogate => "a lone UTF-16 surrogate escape (such as \"\\ud800\"), which \
                                no UTF-8 text can hold"
                .to_owned(),
            Rule::Number => "a number out of range (beyond a double, such as 1e999999)".to_owned(),
        };
        write!(f, "{rule}, at line {} column {}", self.line, self.column)
    }
}

impl std::error::Error for ContentError {}

impl<'a> Content<'a> {
    /// Checks `data` against the content rules (see the module's documentation).
    ///
    /// One more pass of serde_json's parser over JSON it already accepted as raw,
    /// keeping nothing: decoding strings refuses lone surrogates and parsing numbers
    /// refuses those out of range (its only errors on such JSON), and [`Depth`] counts
    /// the nesting (the only error of kind `Data`).
    pub fn check(data: &'a RawValue) -> Result<Self, ContentError> {
        let mut deserializer = serde_json::Deserializer::from_str(data.get());
        Depth(0).deserialize(&mut deserializer).map_err(|e| {
            let rule = if e.classify() == Category::Data {
                Rule::Depth
            } else if e.to_string().starts_with("number out of range") {
                Rule::Number
            } else {
                Rule::Surrogate
            };
            ContentError {
                rule,
                line: e.line(),
                column: e.column(),
            }
        })?;
        Ok(Self(data))
    }
}

/// Walks one JSON value `.0` levels deep, refusing nesting beyond [`MAX_DEPTH`].
#[derive(Clone, Copy)]
struct Depth(usize);

impl Depth {
    fn inner<E: de::Error>(self) -> Result<Self, E> {
        if self.0 < MAX_DEPTH {
            Ok(Self(self.0 + 1))
        } else {
            Err(E::custom(format_args!(
                "arrays and objects are nested deeper than {MAX_DEPTH}"
            )))
        }
    }
}

impl<'de> DeserializeSeed<'de> for Depth {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Depth {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    // Never infinite: serde_json refuses numbers out of range before visiting.
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let inner = self.inner()?;
        while items.next_element_seed(inner)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let inner = self.inner()?;
        while entries.next_key_seed(inner)?.is_some() {
            entries.next_value_seed(inner)?;
        }
        Ok(())
    }
}

/// Stores and fans out a checked message: the one path every message takes into the
/// hub, whichever transport it arrived on.
pub async fn submit(hub: &Hub, channel: ChannelName, content: Content<'_>) -> Result<Id, HubError> {
    let id = hub.publish(channel, &compact(content.0)).await?;
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

    fn check(text: &str) -> Result<(), String> {
        Content::check(&raw(text))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn nested(depth: usize) -> String {
        // Objects and arrays alternate: both count.
        let open: String = (0..depth)
            .map(|n| if n % 2 == 0 { "[" } else { "{\"k\":" })
            .collect();
        let close: String = (0..depth)
            .rev()
            .map(|n| if n % 2 == 0 { "]" } else { "}" })
            .collect();
        format!("{open}0{close}")
    }

    #[test]
    fn nesting_is_refused_beyond_the_limit_at_any_depth() {
        assert_eq!(check(&nested(MAX_DEPTH)), Ok(()));
        for depth in [MAX_DEPTH + 1, 129, 20_000] {
            let error = check(&nested(depth)).unwrap_err();
            assert!(error.contains("nested deeper than 64"), "{depth}: {error}");
        }
        assert_eq!(check("[[], {}, [{}], {\"a\": []}]"), Ok(()));
    }

    #[test]
    fn lone_surrogates_are_refused_pairs_are_not() {
        for lone in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""x\ud83d""#,
            r#"{"\ud800": 1}"#,
            r#"[1, ["\udfff"]]"#,
        ] {
            let error = check(lone).unwrap_err();
            assert!(error.contains("surrogate"), "{lone}: {error}");
        }
        assert_eq!(check(r#""\ud83d\ude00 \u00e9 \u0000""#), Ok(()));
        assert_eq!(check(r#"{"\ud83d\ude00": "é"}"#), Ok(()));
    }

    #[test]
    fn numbers_out_of_the_range_of_a_double_are_refused() {
        for huge in ["1e999999", "-1e999999", "1e309", "[0, {\"n\": 2e400}]"] {
            let error = check(huge).unwrap_err();
            assert!(error.contains("out of range"), "{huge}: {error}");
        }
        let long_integer = "9".repeat(400);
        assert!(check(&long_integer).is_err());
        for fine in [
            "1e308",
            "-1.7976931348623157e308",
            "1e-999999",
            "-0",
            "18446744073709551616",
        ] {
            assert_eq!(check(fine), Ok(()), "{fine}");
        }
    }
}

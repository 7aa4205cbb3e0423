//! The WebSocket client's commands: what each text frame means and what it is answered.
//!
//! Client frames are JSON text:
//! `{"type":"subscribe","channel":"x","since":"<id>"}` (`since` optional),
//! `{"type":"unsubscribe","channel":"x"}`, `{"type":"publish","channel":"x","data":<json>}`
//! and `{"type":"refresh","token":"<jwt>"}`.
//! The server sends `message` (the envelope with `"type":"message"`), `subscribed`,
//! `unsubscribed`, `published` (`channel`, `id`), `reset` (`channel`, `cursor`: the
//! history no longer covers `since`; it is complete after `cursor`, and the messages
//! that follow are all of it), `refreshed` (`expires`: Unix seconds) and `error`
//! (`code`: `unauthorized`, `forbidden`, `limit` or `bad_request`; `message`). A
//! refused or malformed frame gets an `error` frame; the connection stays.
//!
//! The `data` of a `publish` frame follows the content rules of `POST /publish`
//! (`publish.rs`: nesting, lone surrogates, numbers out of range), refused with
//! `bad_request`.
//!
//! Every `subscribe` and `publish` frame asks the policy (`policy.rs`) with the
//! connection's identity, the one its token proved at connect or at its last
//! `refresh`. A refresh may extend the connection (the engine closes it with 4001 when
//! the token expires) but not change its user; channels the new token no longer
//! grants are unsubscribed.
//!
//! This file is yours to extend: a new command is a [`Kind`] and an arm in
//! [`Session::try_command`]. The socket, the framing and the fan-out's writes are the
//! engine's (`engine/ws.rs`), which calls [`Session::command`] for every text frame.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use tokio_tungstenite::tungstenite::{Message as Frame, Utf8Bytes};

use crate::channel::ChannelName;
use crate::config::Config;
use crate::engine::events::{Delivery, Refusal, SharedEvents, Transport};
use crate::engine::outbox::Outbox;
use crate::engine::ws::{self, text_frame};
use crate::expiry;
use crate::hub::{Hub, Piece, Replay, Rest, Subscriber};
use crate::id::Id;
use crate::message::{Envelope, Message};
use crate::params::MAX_CHANNELS_PER_CLIENT;
use crate::policy::{self, Identity};
use crate::publish::{self, Content};
use crate::throttle::Throttle;
use tokio::time::Instant;

/// Shown with every malformed frame.
const EXAMPLE: &str = r#"{"type":"subscribe","channel":"news","since":"<last id>"}"#;

/// Encodes a message as a complete `message` text frame, header included: the fan-out
/// writes these bytes to every subscriber's socket as they are.
pub fn encode(envelope: &Envelope<'_>) -> Bytes {
    text_frame(&server_frame(&ServerFrame::Message {
        channel: envelope.channel,
        id: envelope.id,
        data: envelope.data,
    }))
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ServerFrame<'a> {
    Message {
        channel: &'a str,
        id: Id,
        data: &'a RawValue,
    },
    Subscribed {
        channel: &'a str,
    },
    Unsubscribed {
        channel: &'a str,
    },
    Published {
        channel: &'a str,
        id: Id,
    },
    Reset {
        channel: &'a str,
        cursor: Id,
    },
    Refreshed {
        /// Unix seconds; `null` for a credential that does not expire.
        expires: Option<u64>,
    },
    Error {
        code: &'a str,
        message: &'a str,
    },
}

fn server_frame(frame: &ServerFrame<'_>) -> Bytes {
    serde_json::to_vec(frame)
        .map(Bytes::from)
        .unwrap_or_default()
}

/// One frame from the client. A flat struct rather than a tagged enum, because serde
/// cannot borrow a `RawValue` through a tagged enum's buffering.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFrame<'a> {
    #[serde(rename = "type")]
    kind: Kind,
    channel: Option<ChannelName>,
    #[serde(borrow)]
    since: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "present")]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    token: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Subscribe,
    Unsubscribe,
    Publish,
    Refresh,
}

/// Keeps `"data": null` as JSON `null` instead of "no data".
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// A refused command: the reason (the `code` of the `error` frame) and what to say.
struct Refused {
    reason: Refusal,
    message: String,
}

impl Refused {
    fn bad_request(message: impl Into<String>) -> Self {
        Self {
            reason: Refusal::BadRequest,
            message: message.into(),
        }
    }
}

impl From<policy::Refusal> for Refused {
    fn from(refusal: policy::Refusal) -> Self {
        let reason = match refusal {
            policy::Refusal::Unauthorized(_) => Refusal::Unauthorized,
            policy::Refusal::Forbidden(_) => Refusal::Forbidden,
        };
        Self {
            reason,
            message: refusal.message().to_owned(),
        }
    }
}

/// One connection's subscriptions and who it is.
pub struct Session {
    subscriber: Subscriber,
    channels: Vec<ChannelName>,
    hub: Arc<Hub>,
    config: Arc<Config>,
    events: SharedEvents,
    /// Where the connection comes from, for the failed-authentication throttle.
    client: IpAddr,
    throttle: Arc<Throttle>,
    /// What the connection's token proved; `None` without one.
    identity: Option<Identity>,
    /// When that token expires.
    expires: Option<Instant>,
    /// A replay whose first piece did not hold all of it; boxed, as most connections
    /// never have one.
    replaying: Option<Box<Replaying>>,
}

/// The rest of a replay, and messages queued for other channels that are newer than
/// the pieces sent so far: they follow the piece that passes them, so ids reach the
/// client in order.
struct Replaying {
    rest: Rest,
    held: Vec<Arc<Message>>,
}

impl Session {
    pub fn new(
        subscriber: Subscriber,
        hub: Arc<Hub>,
        config: Arc<Config>,
        events: SharedEvents,
        (identity, client, throttle): (Option<Identity>, IpAddr, Arc<Throttle>),
    ) -> Self {
        Self {
            subscriber,
            channels: Vec::new(),
            hub,
            config,
            events,
            client,
            throttle,
            expires: expiry::deadline(identity.as_ref()),
            identity,
            replaying: None,
        }
    }

    async fn try_command(&mut self, text: &str) -> Result<Vec<Frame>, Refused> {
        let frame: ClientFrame<'_> = serde_json::from_str(text).map_err(|e| {
            Refused::bad_request(format!("invalid frame: {e}; expected e.g. {EXAMPLE}"))
        })?;
        if let Kind::Refresh = frame.kind {
            let token = frame
                .token
                .ok_or_else(|| Refused::bad_request("a refresh frame needs a \"token\""))?;
            return self.refresh(&token).await;
        }
        let channel = frame
            .channel
            .ok_or_else(|| Refused::bad_request("the frame needs a \"channel\""))?;
        match frame.kind {
            Kind::Subscribe => {
                self.config
                    .policy
                    .may_subscribe(&channel, self.identity.as_ref())?;
                let since = frame
                    .since
                    .as_deref()
                    .map(Id::parse)
                    .transpose()
                    .map_err(Refused::bad_request)?;
                if !self.channels.contains(&channel)
                    && self.channels.len() >= MAX_CHANNELS_PER_CLIENT
                {
                    return Err(Refused {
                        reason: Refusal::Limit,
                        message: format!(
                            "at most {MAX_CHANNELS_PER_CLIENT} channels per connection; unsubscribe first"
                        ),
                    });
                }
                let channels = vec![channel];
                let replay = self
                    .subscriber
                    .subscribe(&channels, since)
                    .await
                    .map_err(|e| Refused {
                        reason: Refusal::Limit,
                        message: e.to_string(),
                    })?;
                Ok(self.subscribed(channels, replay))
            }
            Kind::Unsubscribe => {
                self.subscriber.unsubscribe(&channel).await;
                self.channels.retain(|c| *c != channel);
                Ok(vec![control(&ServerFrame::Unsubscribed {
                    channel: channel.as_str(),
                })])
            }
            Kind::Publish => {
                self.config
                    .policy
                    .may_publish(&channel, self.identity.as_ref())?;
                let data = frame
                    .data
                    .ok_or_else(|| Refused::bad_request("a publish frame needs \"data\""))?;
                let content = Content::check(data)
                    .map_err(|e| Refused::bad_request(format!("invalid data: {e}")))?;
                let id = publish::submit(&self.hub, channel.clone(), content)
                    .await
                    .map_err(|e| Refused {
                        reason: Refusal::Limit,
                        message: e.to_string(),
                    })?;
                Ok(vec![control(&ServerFrame::Published {
                    channel: channel.as_str(),
                    id,
                })])
            }
            Kind::Refresh => unreachable!("answered above"),
        }
    }

    /// Replaces the connection's token with `token` if it verifies and names the same
    /// user: the connection lives until the new expiry, and channels the new token no
    /// longer grants are unsubscribed (an `unsubscribed` frame each). A token that does
    /// not verify changes nothing.
    async fn refresh(&mut self, token: &str) -> Result<Vec<Frame>, Refused> {
        let identified = self
            .throttle
            .identify(&self.config.auth, self.client, Some(token))
            .map_err(|limited| Refused {
                reason: Refusal::Limit,
                message: limited.message,
            })?;
        let identity = identified?.ok_or_else(|| {
            Refused::bad_request("tokens are not checked (AUTH_MODE=none): nothing to refresh")
        })?;
        if let Some(current) = &self.identity
            && current.sub() != identity.sub()
        {
            return Err(Refused {
                reason: Refusal::Forbidden,
                message: "the token is for another user; connect again to change users".into(),
            });
        }
        let mut frames = Vec::new();
        let policy = &self.config.policy;
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.channels)
            .into_iter()
            .partition(|channel| policy.may_subscribe(channel, Some(&identity)).is_ok());
        self.channels = kept;
        for channel in dropped {
            self.subscriber.unsubscribe(&channel).await;
            frames.push(control(&ServerFrame::Unsubscribed {
                channel: channel.as_str(),
            }));
        }
        self.expires = expiry::deadline(Some(&identity));
        frames.push(control(&ServerFrame::Refreshed {
            expires: identity.expires(),
        }));
        self.identity = Some(identity);
        Ok(frames)
    }

    /// Records new subscriptions and returns the frames that confirm them: a
    /// `subscribed` per channel, then a `reset` per channel if history has a gap, then
    /// the replay.
    pub fn subscribed(&mut self, channels: Vec<ChannelName>, replay: Replay) -> Vec<Frame> {
        let mut frames: Vec<Frame> = channels
            .iter()
            .map(|channel| {
                control(&ServerFrame::Subscribed {
                    channel: channel.as_str(),
                })
            })
            .collect();
        for channel in &channels {
            if !self.channels.contains(channel) {
                self.channels.push(channel.clone());
            }
        }
        let mut messages = match replay {
            Replay::Reset { cursor, messages } => {
                self.events.reset_sent(Transport::WebSocket);
                frames.extend(channels.iter().map(|channel| {
                    control(&ServerFrame::Reset {
                        channel: channel.as_str(),
                        cursor,
                    })
                }));
                messages
            }
            Replay::Messages(messages) => messages,
        };
        if let Some(rest) = self.subscriber.rest() {
            // More pieces follow (see `next_piece`): queued messages newer than this
            // piece wait for the piece that passes them.
            let held = self.take_queued();
            let mut replaying = Replaying { rest, held };
            frames.extend(replaying.merge(messages, self));
            self.replaying = Some(Box::new(replaying));
        } else if !messages.is_empty() {
            // Messages already queued for the other channels may be older than the
            // replay: merge them in, so ids reach the client in order and its
            // cursor never skips one. Whatever arrives later is newer than both.
            let mut queued = self.take_queued();
            if !queued.is_empty() {
                messages.append(&mut queued);
                messages.sort_unstable_by_key(|m| m.id);
                messages.dedup_by_key(|m| m.id);
            }
            frames.extend(self.message_frames(&messages));
        }
        frames
    }

    /// The next piece of a replay, as frames.
    async fn next_piece(&mut self) -> Option<Vec<Frame>> {
        let mut replaying = self.replaying.take()?;
        match replaying.rest.next().await {
            Piece::Messages(messages) => {
                let frames = replaying.merge(messages, self);
                self.replaying = Some(replaying);
                Some(frames)
            }
            Piece::Done => {
                let held = std::mem::take(&mut replaying.held);
                (!held.is_empty()).then(|| self.message_frames(&held))
            }
            Piece::Broken(reason) => {
                // Nothing may follow an incomplete replay, or the client's cursor
                // would pass the gap: what is queued goes, and the closed queue ends
                // the connection; the client resumes from the last id it got.
                tracing::debug!("ending a WebSocket mid-replay: {reason}");
                self.take_queued();
                self.subscriber.outbox().close();
                None
            }
        }
    }

    /// Takes what the queue holds, leaving out channels unsubscribed since.
    fn take_queued(&mut self) -> Vec<Arc<Message>> {
        let mut queued = Vec::new();
        // Ready at once: it only moves what is queued.
        let _ = self
            .subscriber
            .recv(&mut queued, self.config.limits.queue_len)
            .now_or_never();
        queued.retain(|m| self.channels.contains(&m.channel));
        queued
    }

    /// `messages` as frames the connection's task sends itself, reported as delivered.
    fn message_frames(&self, messages: &[Arc<Message>]) -> Vec<Frame> {
        if !messages.is_empty() {
            let bytes = messages.iter().map(|m| m.wire.len()).sum();
            self.events
                .delivered(Delivery::one_write(messages.len(), bytes));
        }
        messages
            .iter()
            .filter_map(|m| ws::message_frame(m))
            .collect()
    }
}

impl ws::Session for Session {
    fn outbox(&self) -> &Arc<Outbox> {
        self.subscriber.outbox()
    }

    async fn command(&mut self, text: &str) -> Vec<Frame> {
        match self.try_command(text).await {
            Ok(frames) => frames,
            Err(refused) => {
                self.events.refused(refused.reason);
                vec![control(&ServerFrame::Error {
                    code: refused.reason.as_str(),
                    message: &refused.message,
                })]
            }
        }
    }

    async fn more(&mut self) -> Option<Vec<Frame>> {
        self.next_piece().await
    }

    fn queued(&mut self) -> Vec<Frame> {
        let queued = self.take_queued();
        self.message_frames(&queued)
    }

    fn expires(&self) -> Option<Instant> {
        self.expires
    }
}

fn control(frame: &ServerFrame<'_>) -> Frame {
    ws::text(server_frame(frame)).unwrap_or_else(|| Frame::Text(Utf8Bytes::default()))
}

impl Replaying {
    /// `piece` as frames, with the held messages up to its last id merged in.
    fn merge(&mut self, mut piece: Vec<Arc<Message>>, session: &Session) -> Vec<Frame> {
        if let Some(last) = piece.last().map(|m| m.id) {
            let later = self.held.partition_point(|m| m.id <= last);
            if later > 0 {
                piece.extend(self.held.drain(..later));
                piece.sort_unstable_by_key(|m| m.id);
                piece.dedup_by_key(|m| m.id);
            }
        }
        session.message_frames(&piece)
    }
}

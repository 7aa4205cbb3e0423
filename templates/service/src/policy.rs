//! Who may read and write which channel. **Your rules go here**: every way in (SSE,
//! long and short polling, the WebSocket connect query and its `subscribe` and
//! `publish` frames, `POST /publish`) asks [`Policy::may_subscribe`] or
//! [`Policy::may_publish`] before it does anything, on the direct socket path as on
//! the one through axum.
//!
//! A decision is taken once, when a client subscribes or publishes, never per
//! message: a connection keeps its [`Identity`] and nothing else.
//!
//! The rules as generated:
//! - `AUTH_MODE=none`: anyone may subscribe to any channel; publishing needs the
//!   `PUBLISH_TOKEN` when one is set.
//! - `AUTH_MODE=jwt`: channels matching `PUBLIC_CHANNELS` are readable without a token.
//!   Everything else needs an identity: the `PUBLISH_TOKEN` holder may subscribe and
//!   publish everywhere; a user reads the channels its token's `channels` patterns
//!   grant plus its personal channel `user:<sub>`, and publishes where its `publish`
//!   patterns grant. No identity is a 401; an identity without the grant is a 403.

use std::fmt;

use axum::http::StatusCode;

use crate::channel::ChannelName;
use crate::error::ApiError;

/// Whether tokens are checked at all (`AUTH_MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Tokens are verified and the rules below apply.
    Jwt,
    /// Anyone may read any channel; only publishing may need the `PUBLISH_TOKEN`.
    None,
}

impl Mode {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "jwt" => Ok(Self::Jwt),
            "none" => Ok(Self::None),
            other => Err(format!(
                "AUTH_MODE={other:?} is neither `jwt` (verify tokens) nor `none` (anyone may read)"
            )),
        }
    }
}

/// Who is asking, once their token has been verified (see [`crate::auth`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// The holder of the `PUBLISH_TOKEN`: the server-to-server credential, which may
    /// subscribe and publish everywhere and never expires.
    Server,
    /// A user, from the claims of a verified JWT.
    User(User),
}

/// A user's claims, checked and parsed once when the token is verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The `sub` claim. Its personal channel is `user:<sub>`.
    pub sub: Box<str>,
    /// The `channels` claim: what the user may subscribe to.
    pub channels: Box<[Pattern]>,
    /// The `publish` claim: where the user may publish.
    pub publish: Box<[Pattern]>,
    /// The `exp` claim, in Unix seconds.
    pub expires: u64,
}

impl Identity {
    /// When the identity stops being valid, in Unix seconds; `None` for the
    /// `PUBLISH_TOKEN` holder.
    pub fn expires(&self) -> Option<u64> {
        match self {
            Self::Server => None,
            Self::User(user) => Some(user.expires),
        }
    }

    /// The user's `sub`; `None` for the `PUBLISH_TOKEN` holder.
    pub fn sub(&self) -> Option<&str> {
        match self {
            Self::Server => None,
            Self::User(user) => Some(&user.sub),
        }
    }
}

/// One channel pattern: `*` (every channel), an exact channel name, or a prefix
/// ending in `*` that matches every longer name: `room:*` matches `room:1`, not
/// `room`, `room:` or `roomx`.
#[derive(Clone, PartialEq, Eq)]
pub enum Pattern {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
}

impl Pattern {
    /// Parses a pattern; the fixed part must use the channel-name alphabet, and a
    /// `*` may only end the pattern.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "*" {
            return Ok(Self::Any);
        }
        let (fixed, prefix) = match text.strip_suffix('*') {
            Some(fixed) => (fixed, true),
            None => (text, false),
        };
        if fixed.contains('*') {
            return Err(format!(
                "pattern {text:?}: `*` may only end a pattern, as in `room:*`"
            ));
        }
        ChannelName::parse(fixed).map_err(|e| format!("pattern {text:?}: {e}"))?;
        Ok(if prefix {
            Self::Prefix(fixed.into())
        } else {
            Self::Exact(fixed.into())
        })
    }

    /// Comma-separated patterns, as in `PUBLIC_CHANNELS=news,status:*`; blanks are
    /// skipped.
    pub fn parse_list(text: &str) -> Result<Box<[Self]>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|pattern| !pattern.is_empty())
            .map(Self::parse)
            .collect()
    }

    pub fn matches(&self, channel: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(name) => channel == &**name,
            Self::Prefix(prefix) => channel.len() > prefix.len() && channel.starts_with(&**prefix),
        }
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Exact(name) => f.write_str(name),
            Self::Prefix(prefix) => write!(f, "{prefix}*"),
        }
    }
}

fn any_matches(patterns: &[Pattern], channel: &str) -> bool {
    patterns.iter().any(|pattern| pattern.matches(channel))
}

/// Why a request was refused. The same on every path: an HTTP status before a
/// response starts, a WebSocket `error` frame with [`Refusal::code`] after the upgrade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No identity, or a token that does not verify: 401, `"unauthorized"`.
    Unauthorized(String),
    /// A valid identity without the grant: 403, `"forbidden"`.
    Forbidden(String),
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }

    /// The `code` of a WebSocket `error` frame.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::Unauthorized(message) | Self::Forbidden(message) => message,
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self {
            status: refusal.status(),
            message: match refusal {
                Refusal::Unauthorized(message) | Refusal::Forbidden(message) => message,
            },
        }
    }
}

/// What a rule answers: `Ok(())` to allow, or the refusal to send.
pub type Decision = Result<(), Refusal>;

/// The rules, configured once at start.
#[derive(Clone, Debug)]
pub struct Policy {
    pub mode: Mode,
    /// `PUBLIC_CHANNELS`: readable without a token.
    pub public: Box<[Pattern]>,
    /// A `PUBLISH_TOKEN` is configured, so publishing needs an identity even in
    /// `AUTH_MODE=none`.
    pub publish_token_set: bool,
}

impl Policy {
    /// May `who` receive the messages of `channel`?
    pub fn may_subscribe(&self, channel: &ChannelName, who: Option<&Identity>) -> Decision {
        if self.mode == Mode::None || any_matches(&self.public, channel.as_str()) {
            return Ok(());
        }
        match who {
            None => Err(Refusal::Unauthorized(format!(
                "channel {channel:?} needs a token: send `Authorization: Bearer <jwt>`, the \
                 cookie `rt_token`, or `?token=<jwt>`"
            ))),
            Some(Identity::Server) => Ok(()),
            Some(Identity::User(user)) => {
                // The personal channel. A `sub` outside the channel-name alphabet can
                // never equal a validated channel's suffix: that user has none.
                let personal = channel.as_str().strip_prefix("user:") == Some(&*user.sub);
                if personal || any_matches(&user.channels, channel.as_str()) {
                    Ok(())
                } else {
                    Err(Refusal::Forbidden(format!(
                        "the token does not grant channel {channel:?}: add a matching pattern \
                         to its `channels` claim"
                    )))
                }
            }
        }
    }

    /// May `who` publish to some channel? `POST /publish` asks this before it reads the
    /// body, so that a caller who may publish nowhere learns nothing about the body's
    /// rules; [`Policy::may_publish`] asks it first too.
    pub fn may_publish_anywhere(&self, who: Option<&Identity>) -> Decision {
        match (self.mode, who) {
            (_, Some(Identity::Server)) => Ok(()),
            (Mode::None, _) if !self.publish_token_set => Ok(()),
            (Mode::None, _) => Err(Refusal::Unauthorized(
                "publishing needs the PUBLISH_TOKEN, as `Authorization: Bearer <token>`".into(),
            )),
            (Mode::Jwt, None) => Err(Refusal::Unauthorized(
                "publishing needs a token: the PUBLISH_TOKEN or a JWT whose `publish` claim \
                 grants the channel, as `Authorization: Bearer <token>`"
                    .into(),
            )),
            (Mode::Jwt, Some(Identity::User(user))) if user.publish.is_empty() => {
                Err(Refusal::Forbidden(
                    "the token grants publishing to no channel: add patterns to its \
                     `publish` claim"
                        .into(),
                ))
            }
            (Mode::Jwt, Some(Identity::User(_))) => Ok(()),
        }
    }

    /// May `who` publish to `channel`?
    pub fn may_publish(&self, channel: &ChannelName, who: Option<&Identity>) -> Decision {
        self.may_publish_anywhere(who)?;
        match (self.mode, who) {
            (Mode::Jwt, Some(Identity::User(user)))
                if !any_matches(&user.publish, channel.as_str()) =>
            {
                Err(Refusal::Forbidden(format!(
                    "the token does not grant publishing to {channel:?}: add a matching \
                     pattern to its `publish` claim"
                )))
            }
            _ => Ok(()),
        }
    }

    /// [`Policy::may_subscribe`] for every channel of one request: the request is
    /// refused whole, with the first refusal, if any channel is refused.
    pub fn may_subscribe_all(&self, channels: &[ChannelName], who: Option<&Identity>) -> Decision {
        channels
            .iter()
            .try_for_each(|channel| self.may_subscribe(channel, who))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(name: &str) -> ChannelName {
        ChannelName::parse(name).unwrap()
    }

    fn patterns(list: &str) -> Box<[Pattern]> {
        Pattern::parse_list(list).unwrap()
    }

    fn user(sub: &str, channels: &str, publish: &str) -> Identity {
        Identity::User(User {
            sub: sub.into(),
            channels: patterns(channels),
            publish: patterns(publish),
            expires: u64::MAX,
        })
    }

    fn jwt(public: &str) -> Policy {
        Policy {
            mode: Mode::Jwt,
            public: patterns(public),
            publish_token_set: false,
        }
    }

    #[test]
    fn a_prefix_matches_longer_names_only() {
        let room = Pattern::parse("room:*").unwrap();
        assert!(room.matches("room:1"));
        assert!(room.matches("room:lobby.2"));
        for other in ["room", "room:", "roomx", "xroom:1", "Room:1"] {
            assert!(!room.matches(other), "{other}");
        }
    }

    #[test]
    fn exact_and_any_patterns() {
        let news = Pattern::parse("news").unwrap();
        assert!(news.matches("news"));
        assert!(!news.matches("news2") && !news.matches("new"));
        assert!(Pattern::parse("*").unwrap().matches("anything:at.all"));
    }

    #[test]
    fn patterns_outside_the_channel_alphabet_are_refused() {
        for bad in ["", "a*b", "**", "*room", "room:**", "a b", "é*"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", patterns(" news , status:* ,, * ")),
            "[news, status:*, *]"
        );
    }

    #[test]
    fn the_personal_channel_is_its_owners_only() {
        let policy = jwt("");
        let alice = user("42", "", "");
        assert!(
            policy
                .may_subscribe(&channel("user:42"), Some(&alice))
                .is_ok()
        );
        for other in ["user:4", "user:42x", "user:420", "user:", "user:43"] {
            let refusal = policy
                .may_subscribe(&channel(other), Some(&alice))
                .unwrap_err();
            assert_eq!(refusal.status(), StatusCode::FORBIDDEN, "{other}");
        }
    }

    #[test]
    fn a_sub_outside_the_channel_alphabet_has_no_personal_channel() {
        let policy = jwt("");
        let odd = user("a b", "", "");
        assert!(
            policy
                .may_subscribe(&channel("user:a"), Some(&odd))
                .is_err()
        );
        assert!(
            policy
                .may_subscribe(&channel("user:ab"), Some(&odd))
                .is_err()
        );
    }

    #[test]
    fn grants_and_public_channels() {
        let policy = jwt("news,status:*");
        let reader = user("7", "room:*", "");
        assert!(
            policy
                .may_subscribe(&channel("room:1"), Some(&reader))
                .is_ok()
        );
        for refused in ["room", "roomx"] {
            let refusal = policy
                .may_subscribe(&channel(refused), Some(&reader))
                .unwrap_err();
            assert_eq!(refusal.code(), "forbidden", "{refused}");
        }
        // Public channels need no token; everything else answers 401 without one.
        assert!(policy.may_subscribe(&channel("news"), None).is_ok());
        assert!(policy.may_subscribe(&channel("status:eu"), None).is_ok());
        let refusal = policy.may_subscribe(&channel("status"), None).unwrap_err();
        assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refusal.code(), "unauthorized");
        // Another user's channel, granted by a pattern.
        let support = user("1", "user:*", "");
        assert!(
            policy
                .may_subscribe(&channel("user:42"), Some(&support))
                .is_ok()
        );
    }

    #[test]
    fn one_refused_channel_refuses_the_whole_request() {
        let policy = jwt("news");
        let reader = user("42", "room:*", "");
        let ok = [channel("news"), channel("user:42"), channel("room:1")];
        assert!(policy.may_subscribe_all(&ok, Some(&reader)).is_ok());
        let mixed = [channel("news"), channel("room"), channel("room:1")];
        let refusal = policy.may_subscribe_all(&mixed, Some(&reader)).unwrap_err();
        assert!(refusal.message().contains("\"room\""), "{refusal:?}");
        assert_eq!(
            policy.may_subscribe_all(&mixed, None).unwrap_err().status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn publishing_needs_a_publish_grant() {
        let policy = jwt("news");
        let writer = user("42", "*", "room:*");
        assert!(
            policy
                .may_publish(&channel("room:1"), Some(&writer))
                .is_ok()
        );
        // Reading a channel, even a public or personal one, grants no publishing.
        for refused in ["room", "news", "user:42"] {
            let refusal = policy
                .may_publish(&channel(refused), Some(&writer))
                .unwrap_err();
            assert_eq!(refusal.status(), StatusCode::FORBIDDEN, "{refused}");
        }
        let refusal = policy.may_publish(&channel("news"), None).unwrap_err();
        assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn who_may_publish_nowhere_is_known_before_the_channel() {
        let policy = jwt("news");
        let reader = user("42", "*", "");
        let refusal = policy.may_publish_anywhere(Some(&reader)).unwrap_err();
        assert_eq!(refusal.status(), StatusCode::FORBIDDEN);
        let refusal = policy.may_publish_anywhere(None).unwrap_err();
        assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
        assert!(
            policy
                .may_publish_anywhere(Some(&user("42", "", "room:*")))
                .is_ok()
        );
        assert!(policy.may_publish_anywhere(Some(&Identity::Server)).is_ok());
    }

    #[test]
    fn the_publish_token_holder_may_do_everything() {
        let policy = jwt("");
        let server = Identity::Server;
        assert!(
            policy
                .may_subscribe(&channel("user:42"), Some(&server))
                .is_ok()
        );
        assert!(
            policy
                .may_publish(&channel("user:42"), Some(&server))
                .is_ok()
        );
        assert_eq!(server.expires(), None);
    }

    #[test]
    fn without_authorization_anyone_reads_and_publishing_keeps_the_publish_token() {
        let mut policy = Policy {
            mode: Mode::None,
            public: patterns(""),
            publish_token_set: false,
        };
        assert!(policy.may_subscribe(&channel("user:42"), None).is_ok());
        assert!(policy.may_publish(&channel("user:42"), None).is_ok());
        policy.publish_token_set = true;
        assert!(policy.may_subscribe(&channel("user:42"), None).is_ok());
        let refusal = policy.may_publish(&channel("news"), None).unwrap_err();
        assert_eq!(refusal.status(), StatusCode::UNAUTHORIZED);
        let writer = user("42", "", "*");
        assert!(policy.may_publish(&channel("news"), Some(&writer)).is_err());
        assert!(
            policy
                .may_publish(&channel("news"), Some(&Identity::Server))
                .is_ok()
        );
    }

    #[test]
    fn refusals_become_the_json_error_of_their_status() {
        let error = ApiError::from(Refusal::Forbidden("no".into()));
        assert_eq!(error.status, StatusCode::FORBIDDEN);
        assert_eq!(error.message, "no");
    }
}

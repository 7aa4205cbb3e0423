//! WebSocket: `GET /ws`, or `/ws?channel=A&channel=B&since=<id>` to subscribe at connect.
//!
//! What the client's frames mean, and what it is answered, is in `commands.rs`; the
//! handshake, the framing and the connection loop are the engine's (`engine/ws.rs`).
//!
//! A connection presents its token at the upgrade: `Authorization: Bearer <token>`, the
//! `rt_token` cookie, or `?token=` for browsers, which cannot set headers on a WebSocket
//! (prefer the header elsewhere: query strings end up in access logs). A token that
//! does not verify, or channels in the query the policy refuses, are answered 401 or
//! 403 before the upgrade; the frames after it are checked in `commands.rs`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

pub use crate::commands::encode;

use crate::AppState;
use crate::auth::{self, Cookie};
use crate::client_addr::{self, ClientIp, ServedAs};
use crate::commands::Session;
use crate::engine::ws::{self, Settings};
use crate::error::ApiError;
use crate::hub::Replay;
use crate::params;

pub fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(connect))
}

/// Checks the handshake and the query, subscribes, and answers `101 Switching
/// Protocols`; the engine's connection loop takes over once hyper hands the socket
/// back.
async fn connect(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    served: ServedAs,
    Query(query): Query<Vec<(String, String)>>,
    mut request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    state.config.origins.check(headers, &served)?;
    // Before the handshake is checked, so that a plain GET learns the verdict too.
    let token = auth::presented_in(headers, &query, Cookie::Accepted);
    let channels = if query.iter().any(|(key, _)| key == "channel") {
        params::channels(&query)?
    } else {
        Vec::new()
    };
    // A token that fails verification counts as none: public channels still open.
    let caller = state.throttle.identify(&state.config.auth, client, token)?;
    let policy = &state.config.policy;
    auth::decide(&caller, |who| policy.may_subscribe_all(&channels, who))?;
    let who = caller.ok().flatten();
    let accept = ws::accept_key(&request)?;
    let since = params::id(&query, "since")?;
    let Some(open) = state.sockets.upgrade() else {
        return Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "the server is shutting down".into(),
        });
    };

    // Subscribing before the upgrade answers hub errors with a status, and nothing
    // published after the handshake can be missed.
    let mut subscriber = state.hub.subscriber(client_addr::limit_key(client));
    let replay = if channels.is_empty() {
        Replay::Messages(Vec::new())
    } else {
        subscriber.subscribe(&channels, since).await?
    };
    let mut session = Session::new(
        subscriber,
        Arc::clone(&state.hub),
        Arc::clone(&state.config),
        Arc::clone(&state.events),
        (who, client, Arc::clone(&state.throttle)),
    );
    let first = session.subscribed(channels, replay);
    let settings = Settings {
        ping_interval: state.config.ping_interval,
        events: Arc::clone(&state.events),
        open,
    };
    Ok(ws::upgrade(
        &mut request,
        accept,
        session,
        first,
        settings,
        state.shutdown.clone(),
    ))
}

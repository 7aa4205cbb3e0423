// WebSocket: the browser does not reconnect by itself, so this script does, with
// backoff, and resumes every channel from the last id it saw.
//
// The token from getToken() is presented at connect as `?token=` (browsers cannot set
// headers on a WebSocket; the `rt_token` cookie works too). Before it expires the
// client sends a fresh one in a `refresh` frame and the connection carries on; if the
// server closes with 4001 (expired) anyway, it reconnects from the last id it saw.
"use strict";

let socket = null;
let subscribed = [];
let retryTimer = null;
let refreshTimer = null;
let attempt = 0;

// Sends a fresh token a little before `expires`: a fifth of the remaining lifetime
// ahead, at most 30 s.
function scheduleRefresh(current, expires, getToken) {
  clearTimeout(refreshTimer);
  if (!expires) return;
  const remaining = expires * 1000 - Date.now();
  const delay = Math.max(0, remaining - Math.min(30000, remaining / 5));
  refreshTimer = setTimeout(async () => {
    const token = await getToken();
    if (token && current.readyState === WebSocket.OPEN) {
      current.send(JSON.stringify({ type: "refresh", token }));
    }
  }, delay);
}

async function connect(channels, cursor, getToken) {
  // Already connected: change the subscriptions in place, over the socket.
  if (socket?.readyState === WebSocket.OPEN) {
    for (const channel of subscribed.filter((c) => !channels.includes(c))) {
      socket.send(JSON.stringify({ type: "unsubscribe", channel }));
    }
    for (const channel of channels.filter((c) => !subscribed.includes(c))) {
      const frame = { type: "subscribe", channel };
      if (cursor) frame.since = cursor;
      socket.send(JSON.stringify(frame));
    }
    subscribed = channels;
    return;
  }
  clearTimeout(retryTimer);
  clearTimeout(refreshTimer);
  socket?.close();
  socket = null;
  subscribed = channels;
  const url = new URL("/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const channel of channels) url.searchParams.append("channel", channel);
  if (cursor) url.searchParams.set("since", cursor);
  const token = await getToken();
  if (token) url.searchParams.set("token", token);
  demo.state(attempt === 0 ? "connecting" : "reconnecting");
  const current = new WebSocket(url);
  socket = current;
  const resume = () => connect(demo.channels(), demo.cursor, getToken);
  current.onopen = () => {
    attempt = 0;
    demo.state("connected");
    scheduleRefresh(current, token && demo.expiry(token), getToken);
  };
  current.onmessage = (event) => {
    const frame = JSON.parse(event.data);
    switch (frame.type) {
      case "message":
        demo.receive(frame);
        break;
      case "reset":
        // One per channel; the cursor is shared, so show it once.
        if (frame.cursor !== demo.cursor) demo.reset(frame.cursor);
        break;
      case "refreshed":
        scheduleRefresh(current, frame.expires, getToken);
        break;
      case "unsubscribed":
        subscribed = subscribed.filter((c) => c !== frame.channel);
        break;
      case "error":
        if (frame.code === "unauthorized" || frame.code === "forbidden") {
          demo.refused(frame.code === "forbidden" ? 403 : 401, frame.message);
        } else {
          console.warn("server:", frame.message);
        }
        break;
    }
  };
  current.onclose = async (event) => {
    if (socket !== current) return;
    socket = null;
    clearTimeout(refreshTimer);
    if (event.code === 4001) {
      // The token expired: a fresh one, and on from the last id.
      demo.refused("expired", "the token expired; renewing it and resuming");
      if (demo.renewed(await getToken())) resume();
      return;
    }
    if (event.code === 1006 && attempt === 0) {
      // Refused before the upgrade? The browser does not say: ask with fetch.
      const status = await refusal(url);
      if (status) {
        demo.refused(status.code, status.message);
        return;
      }
    }
    // 1013 (too slow), 1001 (server restarting) and network errors all end the same
    // way: come back later and resume from the last id.
    attempt += 1;
    demo.state("reconnecting");
    console.info(`closed (${event.code} ${event.reason}); retrying`);
    retryTimer = setTimeout(resume, demo.backoff(attempt));
  };
}

// The status and message of a refused connect, or null if it is not refused: the
// server checks the token before the handshake, so a plain GET learns the verdict.
async function refusal(url) {
  const http = new URL(url);
  http.protocol = http.protocol === "wss:" ? "https:" : "http:";
  try {
    const response = await fetch(http);
    if (response.status !== 401 && response.status !== 403) return null;
    const body = await response.json().catch(() => ({}));
    return { code: response.status, message: body.error };
  } catch {
    return null;
  }
}

demo.start(connect);

// Shared by every transport: connection state, the message log, the token and publish
// forms. The transport script (client.js) is started with demo.start(connect) and is
// called as connect(channels, cursor, getToken); it reports back through
// demo.state(), demo.receive(), demo.reset() and demo.refused().
//
// getToken() resolves to the token to present (or null): here, the one in the token
// field, which is also stored in the `rt_token` cookie for EventSource, which cannot
// send headers. In your app it would ask your backend for a fresh token.
"use strict";

const demo = (() => {
  const $ = (id) => document.getElementById(id);
  const stateBadge = $("state");
  const cursorLabel = $("cursor");
  const log = $("log");
  const seen = new Set();
  let cursor = null;
  let connect = () => {};
  const tokenForm = $("token");

  // A token in the page's URL (`/?token=...`) fills the field, then leaves the address
  // bar, so it is not bookmarked or shared by accident.
  const pageUrl = new URL(location.href);
  if (pageUrl.searchParams.has("token")) {
    tokenForm.token.value = pageUrl.searchParams.get("token");
    pageUrl.searchParams.delete("token");
    history.replaceState(null, "", pageUrl);
  }

  function storeToken() {
    const token = tokenForm.token.value.trim();
    // The subscribe paths accept the cookie; POST /publish never does (it gets the header).
    document.cookie = token
      ? `rt_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`
      : "rt_token=; path=/; max-age=0; SameSite=Strict";
    return token || null;
  }
  storeToken();

  async function getToken() {
    return storeToken();
  }

  // The `exp` claim of a JWT, in Unix seconds, or null. Only to plan renewals: the
  // server verifies the token.
  function expiry(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(atob(payload)).exp ?? null;
    } catch {
      return null;
    }
  }

  // After the server ended a connection for an expired token: whether to reconnect now.
  // Not with a token that has expired too (the server's 30 s of leeway would accept it
  // and end it again at once): the user, or your app, must supply a fresh one first.
  function renewed(token) {
    const exp = token && expiry(token);
    if (exp && exp * 1000 <= Date.now()) {
      refusedState("expired", "the token expired; enter a fresh one and press Use token");
      return false;
    }
    return true;
  }

  function channels() {
    return $("subscribe").channels.value.split(",").map((c) => c.trim()).filter(Boolean);
  }

  function state(name) {
    stateBadge.dataset.state = name;
    stateBadge.textContent = name;
  }

  function line(text, meta) {
    const item = document.createElement("li");
    const small = document.createElement("span");
    small.className = "meta";
    small.textContent = meta + " ";
    item.append(small, text);
    log.prepend(item);
    while (log.children.length > 200) log.lastChild.remove();
  }

  function refusedState(status, message) {
    const name = status === 403 ? "forbidden" : status === "expired" ? "expired" : "unauthorized";
    state(name);
    line(message || name, status === "expired" ? "expired" : `${status} ${name}`);
  }

  function setCursor(id) {
    cursor = id;
    cursorLabel.textContent = id ?? "none";
  }

  function show(message) {
    // A message can arrive twice only if a transport replays what it already
    // delivered; the id makes showing it twice impossible.
    if (seen.has(message.id)) return false;
    seen.add(message.id);
    setCursor(message.id);
    line(JSON.stringify(message.data), `#${message.id} ${message.channel}`);
    return true;
  }

  // Exponential backoff with full jitter, capped near 20 s: spreads reconnects of
  // many clients after a restart instead of stampeding the server.
  function backoff(attempt) {
    return Math.random() * Math.min(20000, 500 * 2 ** attempt);
  }

  $("subscribe").addEventListener("submit", (event) => {
    event.preventDefault();
    connect(channels(), cursor, getToken);
  });

  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    storeToken();
    connect(channels(), cursor, getToken);
  });

  $("publish").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const status = $("publish-status");
    let data;
    try {
      data = JSON.parse(form.data.value);
    } catch (error) {
      status.textContent = "data is not JSON: " + error.message;
      return;
    }
    try {
      const headers = { "content-type": "application/json" };
      const token = await getToken();
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch("/publish", {
        method: "POST",
        headers,
        body: JSON.stringify({ channel: form.channel.value.trim(), data }),
      });
      const body = await response.json();
      status.textContent = response.ok
        ? "published " + body.id
        : `refused (${response.status}): ${body.error}`;
    } catch (error) {
      status.textContent = "publish failed: " + error.message;
    }
  });

  return {
    channels,
    state,
    backoff,
    getToken,
    expiry,
    renewed,
    // The server refused: 401 (no valid token), 403 (the token does not grant the
    // channel) or an expired token. Shown as it is; the transport stops retrying.
    refused: refusedState,
    get cursor() {
      return cursor;
    },
    receive(message) {
      if (show(message)) state("connected");
    },
    // A gap before `newCursor`; `messages` (or the ones received next) are everything
    // history still holds after it.
    reset(newCursor, messages = []) {
      setCursor(newCursor);
      state("reset");
      line("history no longer covers the gap; reload your state", "reset");
      for (const message of messages) show(message);
    },
    start(connectFn) {
      connect = connectFn;
      connect(channels(), cursor, getToken);
    },
  };
})();

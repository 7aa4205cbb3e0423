// Shared by every transport: connection state, the message log, the publish form.
// The transport script (client.js) calls demo.connect(channels, cursor) and reports
// back through demo.state(), demo.receive() and demo.reset().
"use strict";

const demo = (() => {
  const $ = (id) => document.getElementById(id);
  const stateBadge = $("state");
  const cursorLabel = $("cursor");
  const log = $("log");
  const seen = new Set();
  let cursor = null;
  let connect = () => {};

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
    connect(channels(), cursor);
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
      const response = await fetch("/publish", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel: form.channel.value.trim(), data }),
      });
      const body = await response.json();
      status.textContent = response.ok ? "published " + body.id : "error: " + body.error;
    } catch (error) {
      status.textContent = "publish failed: " + error.message;
    }
  });

  return {
    channels,
    state,
    backoff,
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
      connect(channels(), cursor);
    },
  };
})();

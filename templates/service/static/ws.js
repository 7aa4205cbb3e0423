// WebSocket: the browser does not reconnect by itself, so this script does, with
// backoff, and resumes every channel from the last id it saw.
"use strict";

let socket = null;
let subscribed = [];
let retryTimer = null;
let attempt = 0;

function connect(channels, cursor) {
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
  socket?.close();
  subscribed = channels;
  const url = new URL("/ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const channel of channels) url.searchParams.append("channel", channel);
  if (cursor) url.searchParams.set("since", cursor);
  demo.state(attempt === 0 ? "connecting" : "reconnecting");
  const current = new WebSocket(url);
  socket = current;
  current.onopen = () => {
    attempt = 0;
    demo.state("connected");
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
      case "error":
        console.warn("server:", frame.message);
        break;
    }
  };
  current.onclose = (event) => {
    if (socket !== current) return;
    socket = null;
    // 1013 (too slow), 1001 (server restarting) and network errors all end the same
    // way: come back later and resume from the last id.
    attempt += 1;
    demo.state("reconnecting");
    console.info(`closed (${event.code} ${event.reason}); retrying`);
    retryTimer = setTimeout(() => connect(demo.channels(), demo.cursor), demo.backoff(attempt));
  };
}

demo.start(connect);

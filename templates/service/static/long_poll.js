// Long polling: the server holds each request until a message arrives or its timeout
// passes, and the next request starts at once from the cursor it returned.
"use strict";

let controller = null;

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const abort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", abort, { once: true });
  });
}

async function connect(channels, cursor) {
  // A new channel list replaces the poll in flight.
  controller?.abort();
  const current = new AbortController();
  controller = current;
  let attempt = 0;
  demo.state("connecting");
  while (!current.signal.aborted) {
    const url = new URL("/poll", location.href);
    for (const channel of channels) url.searchParams.append("channel", channel);
    if (cursor) {
      url.searchParams.set("cursor", cursor);
    } else {
      // Learn the current cursor quickly instead of waiting for the first message.
      url.searchParams.set("timeout", "1");
    }
    try {
      const response = await fetch(url, { signal: current.signal, cache: "no-store" });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ?? response.statusText);
      attempt = 0;
      if (body.reset) {
        // The badge shows the reset until the next answer; its messages follow it.
        demo.reset(body.cursor, body.messages);
      } else {
        demo.state("connected");
        for (const message of body.messages) demo.receive(message);
      }
      cursor = body.cursor;
    } catch {
      if (current.signal.aborted) return;
      attempt += 1;
      demo.state("reconnecting");
      await pause(demo.backoff(attempt), current.signal);
    }
  }
}

demo.start(connect);

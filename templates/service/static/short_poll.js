// Short polling: ask for anything newer than the cursor every poll_interval_ms. The
// browser's cache revalidates each poll with If-None-Match, so a poll that finds
// nothing new costs an empty 304.
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
    const url = new URL("/messages", location.href);
    for (const channel of channels) url.searchParams.append("channel", channel);
    if (cursor) url.searchParams.set("cursor", cursor);
    let wait;
    try {
      const response = await fetch(url, { signal: current.signal });
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
      wait = body.poll_interval_ms;
    } catch {
      if (current.signal.aborted) return;
      attempt += 1;
      demo.state("reconnecting");
      wait = demo.backoff(attempt);
    }
    await pause(wait, current.signal);
  }
}

demo.start(connect);

// Short polling: ask for anything newer than the cursor every poll_interval_ms. The
// browser's cache revalidates each poll with If-None-Match, so a poll that finds
// nothing new costs an empty 304.
//
// Each poll presents the token from getToken() as `Authorization: Bearer`. A 401 (an
// expired token, say) asks getToken() once more and polls again from the same cursor,
// so nothing is lost; a second refusal in a row, or a 403, is shown and polling stops.
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

async function connect(channels, cursor, getToken) {
  // A new channel list replaces the poll in flight.
  controller?.abort();
  const current = new AbortController();
  controller = current;
  let attempt = 0;
  let refusedBefore = false;
  demo.state("connecting");
  while (!current.signal.aborted) {
    const url = new URL("/messages", location.href);
    for (const channel of channels) url.searchParams.append("channel", channel);
    if (cursor) url.searchParams.set("cursor", cursor);
    let wait;
    try {
      const headers = {};
      const token = await getToken();
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(url, { signal: current.signal, headers });
      const body = await response.json();
      if (response.status === 401 && !refusedBefore) {
        // Most likely expired: the next round asks getToken() again.
        refusedBefore = true;
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        demo.refused(response.status, body.error);
        return;
      }
      if (!response.ok) throw new Error(body.error ?? response.statusText);
      attempt = 0;
      refusedBefore = false;
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

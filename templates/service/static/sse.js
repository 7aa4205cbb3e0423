// Server-Sent Events: the browser's EventSource reconnects by itself and sends the
// last id it saw as Last-Event-ID, so the server resumes without loss.
//
// EventSource cannot send headers: the token travels in the `rt_token` cookie, which
// getToken() keeps current. When the token expires the server sends an `expired`
// event and ends the stream; the client then asks getToken() for a fresh one and
// reconnects from the last id it saw, so nothing is lost.
"use strict";

let source = null;
let retryTimer = null;
let attempt = 0;

function connect(channels, cursor, getToken) {
  source?.close();
  clearTimeout(retryTimer);
  const url = new URL("/events", location.href);
  for (const channel of channels) url.searchParams.append("channel", channel);
  if (cursor) url.searchParams.set("last_event_id", cursor);
  demo.state(attempt === 0 ? "connecting" : "reconnecting");
  const current = new EventSource(url);
  source = current;
  const resume = () => connect(demo.channels(), demo.cursor, getToken);
  let openedAt = Date.now();
  current.onopen = () => {
    openedAt = Date.now();
    attempt = 0;
    demo.state("connected");
  };
  current.onmessage = (event) => demo.receive(JSON.parse(event.data));
  current.addEventListener("reset", (event) => demo.reset(JSON.parse(event.data).cursor));
  current.addEventListener("expired", async () => {
    current.close();
    demo.refused("expired", "the token expired; renewing it and resuming");
    if (!demo.renewed(await getToken())) return;
    // Ended again right after opening: the token is no fresher (a cookie the page cannot
    // read, say). Back off rather than loop.
    if (Date.now() - openedAt < 5000) {
      attempt += 1;
      retryTimer = setTimeout(resume, demo.backoff(attempt));
    } else {
      resume();
    }
  });
  current.onerror = async () => {
    if (current.readyState !== EventSource.CLOSED) {
      demo.state("reconnecting");
      return;
    }
    // The server answered with an error status, which EventSource does not reveal:
    // ask once more with fetch to learn it. 401 and 403 are shown and not retried.
    const status = await refusal(url);
    if (source !== current) return;
    if (status) {
      demo.refused(status.code, status.message);
      return;
    }
    attempt += 1;
    demo.state("reconnecting");
    retryTimer = setTimeout(resume, demo.backoff(attempt));
  };
}

// The status and message of a refused subscription, or null if it is not refused.
async function refusal(url) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (response.status !== 401 && response.status !== 403) return null;
    const body = await response.json().catch(() => ({}));
    return { code: response.status, message: body.error };
  } catch {
    return null;
  } finally {
    controller.abort();
  }
}

demo.start(connect);

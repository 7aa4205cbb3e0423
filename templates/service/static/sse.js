// Server-Sent Events: the browser's EventSource reconnects by itself and sends the
// last id it saw as Last-Event-ID, so the server resumes without loss.
"use strict";

let source = null;
let retryTimer = null;
let attempt = 0;

function connect(channels, cursor) {
  source?.close();
  clearTimeout(retryTimer);
  const url = new URL("/events", location.href);
  for (const channel of channels) url.searchParams.append("channel", channel);
  if (cursor) url.searchParams.set("last_event_id", cursor);
  demo.state(attempt === 0 ? "connecting" : "reconnecting");
  const current = new EventSource(url);
  source = current;
  current.onopen = () => {
    attempt = 0;
    demo.state("connected");
  };
  current.onmessage = (event) => demo.receive(JSON.parse(event.data));
  current.addEventListener("reset", (event) => demo.reset(JSON.parse(event.data).cursor));
  current.onerror = () => {
    if (current.readyState === EventSource.CLOSED) {
      // The server answered with an error status: EventSource gives up, so retry
      // ourselves, from the last id we saw.
      attempt += 1;
      demo.state("reconnecting");
      retryTimer = setTimeout(() => connect(demo.channels(), demo.cursor), demo.backoff(attempt));
    } else {
      demo.state("reconnecting");
    }
  };
}

demo.start(connect);

//! What rtgen knows about each strategy and fan-out, in one table each: `explain`, the
//! reports, the advisor's reasons and cons, and the generator's template variables all read
//! them. Adding a strategy is one entry here (a test checks every strategy has one).

use crate::answers::{Fanout, Strategy};

/// A weakness and what to do about it.
#[derive(Debug, Clone, Copy)]
pub struct ConNote {
    pub problem: &'static str,
    pub mitigation: &'static str,
}

#[derive(Debug)]
pub struct StrategyNotes {
    pub strategy: Strategy,
    /// For tables and reasons: `Server-Sent Events (SSE)`.
    pub title: &'static str,
    /// For the generated project's prose: `Server-Sent Events`.
    pub project_title: &'static str,
    /// The Rust module of the strategy's transport in a generated project: `sse`.
    pub module: &'static str,
    /// The preset `rtgen explain STRATEGY` suggests to try it with.
    pub demo_preset: &'static str,
    /// One line, shown next to the strategy in prompts and tables.
    pub hint: &'static str,
    pub how: &'static str,
    pub pros: &'static [&'static str],
    pub cons: &'static [ConNote],
    pub use_cases: &'static [&'static str],
    /// Battery advice for `constraints.mobile`.
    pub mobile: ConNote,
}

pub const STRATEGIES: [StrategyNotes; 4] = [
    StrategyNotes {
        strategy: Strategy::ShortPolling,
        title: "Short polling",
        project_title: "Short polling",
        module: "short_poll",
        demo_preset: "dashboard",
        hint: "the client asks \"anything new?\" on a timer; simplest, lags up to one interval",
        how: "The client sends a plain GET every few seconds with the cursor of the last message it \
              saw; the server answers at once with whatever is newer (often nothing).",
        pros: &[
            "plain, stateless HTTP: works through every proxy, cache and load balancer",
            "trivial to build, debug and scale horizontally",
            "ETag/304 makes idle polls cheap",
        ],
        cons: &[
            ConNote {
                problem: "most responses are empty: every client polls even when nothing changed",
                mitigation: "answer with ETag = cursor and 304 Not Modified on If-None-Match, and back off the \
                             interval while nothing changes",
            },
            ConNote {
                problem: "a message arrives up to one poll interval late",
                mitigation: "derive the interval from the freshness you need (e.g. 2-5 s for \"seconds\"), and \
                             switch to long polling or SSE if users notice the lag",
            },
        ],
        use_cases: &[
            "dashboards refreshed every few minutes",
            "status pages",
            "reports and exports finishing",
        ],
        mobile: ConNote {
            problem: "battery: every poll wakes the phone's radio, even when nothing changed",
            mitigation: "poll no faster than the freshness requires, stop polling in the background and use \
                         push notifications (APNs/FCM) to wake the app",
        },
    },
    StrategyNotes {
        strategy: Strategy::LongPolling,
        title: "Long polling",
        project_title: "Long polling",
        module: "long_poll",
        demo_preset: "legacy-mvp",
        hint: "the server holds each request until there is news; near-instant over plain HTTP",
        how: "The client sends a GET with its cursor; the server holds the request open until a newer \
              message exists or a timeout (~25 s) passes, answers, and the client asks again at once.",
        pros: &[
            "near-instant delivery with nothing but HTTP requests: works with the oldest clients",
            "passes proxies and firewalls that block WebSockets and buffer streams",
            "a cursor makes resume after a network change exact",
        ],
        cons: &[
            ConNote {
                problem: "every waiting client holds a connection (and a task) on the server",
                mitigation: "use an async server (as generated), keep the hold timeout below proxy idle timeouts \
                             (~25 s) and raise file-descriptor limits",
            },
            ConNote {
                problem: "each message costs a full request with headers, and a burst costs a round trip per batch",
                mitigation: "return every message newer than the cursor in one response, and keep cookies and \
                             headers small on the poll path",
            },
        ],
        use_cases: &[
            "chat or notifications for legacy clients",
            "MVPs that need fast updates",
            "networks that block streaming",
        ],
        mobile: ConNote {
            problem: "battery: each message and each timeout re-wakes the radio for a new request",
            mitigation: "use the longest timeout proxies allow (25-55 s), pause polling in the background and \
                         use push notifications to wake the app",
        },
    },
    StrategyNotes {
        strategy: Strategy::Sse,
        title: "Server-Sent Events (SSE)",
        project_title: "Server-Sent Events",
        module: "sse",
        demo_preset: "news-feed",
        hint: "one long HTTP response streams events to the browser's EventSource; reconnects and resumes by itself",
        how: "The client opens GET /events with EventSource; the server keeps the response open and writes \
              `id:`/`data:` events as they happen. On reconnect the browser sends Last-Event-ID and the \
              server replays what was missed. Client-to-server messages use ordinary HTTP POSTs.",
        pros: &[
            "built into browsers: automatic reconnect and resume by Last-Event-ID",
            "plain HTTP: works with HTTP/2, auth headers or cookies, and ordinary load balancers",
            "one connection per client, no per-message request overhead",
        ],
        cons: &[
            ConNote {
                problem: "proxies and CDNs may buffer the stream, so events arrive late and in bursts",
                mitigation: "send `X-Accel-Buffering: no` and `Cache-Control: no-cache`, disable response \
                             compression on the stream and send a keep-alive comment every 15 s",
            },
            ConNote {
                problem: "browsers allow only 6 HTTP/1.1 connections per origin, shared by all tabs",
                mitigation: "serve over HTTP/2 (or HTTP/3), and subscribe to several channels on one stream \
                             instead of one stream per channel",
            },
            ConNote {
                problem: "one-way only: the client cannot send on the stream",
                mitigation: "send client messages with HTTP POST (generated as POST /publish)",
            },
        ],
        use_cases: &[
            "news feeds",
            "notifications",
            "status updates",
            "stock tickers",
            "live dashboards",
        ],
        mobile: ConNote {
            problem: "battery: an open stream keeps the radio ready for keep-alives",
            mitigation: "keep keep-alives at 15-30 s, close the stream when the app goes to the background and \
                         reconnect with Last-Event-ID when it returns",
        },
    },
    StrategyNotes {
        strategy: Strategy::Websocket,
        title: "WebSockets",
        project_title: "WebSockets",
        module: "ws",
        demo_preset: "chat",
        hint: "a full-duplex connection after an HTTP Upgrade; both sides send at any time",
        how: "The client upgrades a GET /ws request to a WebSocket; both sides then exchange JSON frames \
              over one connection: subscribe, publish and messages, with pings to detect dead peers.",
        pros: &[
            "lowest latency in both directions over one connection",
            "no per-message HTTP overhead",
            "natural fit for chat, games and collaborative editing",
        ],
        cons: &[
            ConNote {
                problem: "stateful: each connection is pinned to one server, and deploys or crashes drop it",
                mitigation: "reconnect with exponential backoff and full jitter, resume from the last id, and \
                             drain connections with close code 1001 on shutdown",
            },
            ConNote {
                problem: "the load balancer must pass the Upgrade and Connection headers and allow long idle times",
                mitigation: "configure the proxy for WebSockets (e.g. nginx `proxy_set_header Upgrade`), raise \
                             idle timeouts and ping every ~25 s",
            },
            ConNote {
                problem: "some corporate proxies and firewalls block WebSocket upgrades",
                mitigation: "serve wss:// (TLS passes more middleboxes) and keep SSE or long polling as a fallback",
            },
        ],
        use_cases: &[
            "chat",
            "multiplayer games",
            "collaborative editing",
            "anything with constant two-way traffic",
        ],
        mobile: ConNote {
            problem: "battery: an open socket and its pings keep the radio ready",
            mitigation: "ping no more often than every 25-30 s, close the socket in the background and resume \
                         from the last id when the app returns",
        },
    },
];

/// The cost of Redis pub/sub fan-out.
pub const REDIS_CONS: &[ConNote] = &[
    ConNote {
        problem: "Redis pub/sub is fire-and-forget: a server that is disconnected from Redis misses messages",
        mitigation: "keep per-channel history with ids (as generated) so clients resume, send an explicit \
                     reset when the gap cannot be filled, or use Redis Streams for durable delivery",
    },
    ConNote {
        problem: "Redis becomes a dependency every server needs",
        mitigation: "use a managed or replicated Redis (Sentinel), report it in /readyz and reconnect with backoff",
    },
];

pub fn of(strategy: Strategy) -> &'static StrategyNotes {
    STRATEGIES
        .iter()
        .find(|n| n.strategy == strategy)
        .expect("notes cover every strategy")
}

/// What a fan-out is called and what it does, for the reports and the generated project.
pub struct FanoutNotes {
    pub fanout: Fanout,
    /// For the generated project's prose: `in-process`.
    pub title: &'static str,
}

pub const FANOUTS: [FanoutNotes; 2] = [
    FanoutNotes {
        fanout: Fanout::Memory,
        title: "in-process",
    },
    FanoutNotes {
        fanout: Fanout::Redis,
        title: "Redis pub/sub",
    },
];

pub fn of_fanout(fanout: Fanout) -> &'static FanoutNotes {
    FANOUTS
        .iter()
        .find(|n| n.fanout == fanout)
        .expect("notes cover every fan-out")
}

/// How the fan-out works with `servers` servers, for the reports.
pub fn fanout_text(fanout: Fanout, servers: u32) -> String {
    match fanout {
        // One server needs no backbone: say what Redis buys it instead of "between 1 server".
        Fanout::Redis if servers == 1 => {
            "Redis pub/sub, ready for more servers than today's one".into()
        }
        Fanout::Redis => format!("Redis pub/sub between {servers} servers"),
        Fanout::Memory => "in-process, one server".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::Named;

    #[test]
    fn every_strategy_and_fanout_has_one_entry() {
        for &strategy in Strategy::ALL {
            let count = STRATEGIES.iter().filter(|n| n.strategy == strategy).count();
            assert_eq!(count, 1, "{strategy}");
            assert!(crate::answers::presets::NAMES.contains(&of(strategy).demo_preset));
        }
        for &fanout in Fanout::ALL {
            assert_eq!(FANOUTS.iter().filter(|n| n.fanout == fanout).count(), 1);
        }
    }
}

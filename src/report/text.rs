//! The recommendation for people. Colour only on a terminal and never with NO_COLOR
//! (console decides both for stdout).

use console::style;

use crate::advisor::Recommendation;
use crate::answers::{Answers, Direction, Fanout, Named, Upstream};
use crate::notes;

pub fn render(rec: &Recommendation, answers: &Answers) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let chosen = notes::of(rec.strategy);
    line(format!(
        "{} {}  {}",
        style("Recommended:").bold(),
        style(rec.strategy).bold().green(),
        chosen.title
    ));
    line(format!("  {}", chosen.hint));
    line(format!(
        "  upstream: {}  ({})",
        rec.upstream,
        upstream_text(rec.upstream)
    ));
    line(format!(
        "  fan-out:  {}  ({})",
        rec.fanout,
        fanout_text(rec.fanout, answers.scale.servers)
    ));
    line(format!("  for:      {}", describe(answers)));

    line(String::new());
    line(style("Why").bold().to_string());
    for reason in &rec.reasons {
        line(format!("  - {reason}"));
    }

    if !rec.warnings.is_empty() {
        line(String::new());
        line(style("Warnings").bold().yellow().to_string());
        for warning in &rec.warnings {
            line(format!("  ! {warning}"));
        }
    }

    line(String::new());
    line(style("Cons, and how to mitigate them").bold().to_string());
    for con in &rec.cons {
        line(format!("  - {}", con.problem));
        line(format!("    {} {}", style("->").cyan(), con.mitigation));
    }

    line(String::new());
    line(style("Ranking").bold().to_string());
    let width = rec
        .ranking
        .iter()
        .map(|r| r.strategy.name().len())
        .max()
        .unwrap_or(0);
    for (place, ranked) in rec.ranking.iter().enumerate() {
        let name = format!("{:width$}", ranked.strategy.name());
        let name = if place == 0 {
            style(name).green().bold().to_string()
        } else {
            name
        };
        line(format!(
            "  {}. {name}  {:>3}  {}",
            place + 1,
            ranked.score,
            ranked.reason
        ));
    }

    line(String::new());
    line(format!(
        "Details: rtgen explain {}    Generate it: rtgen new NAME --strategy {}",
        rec.strategy, rec.strategy
    ));
    out
}

fn upstream_text(upstream: Upstream) -> &'static str {
    match upstream {
        Upstream::Websocket => "clients send on the same WebSocket",
        Upstream::HttpPost => "clients send with HTTP POST",
        Upstream::None => "clients only receive",
    }
}

fn fanout_text(fanout: Fanout, servers: u32) -> String {
    match fanout {
        Fanout::Redis => format!(
            "Redis pub/sub between {servers} server{}",
            if servers == 1 { "" } else { "s" }
        ),
        Fanout::Memory => "in-process, one server".into(),
    }
}

fn describe(answers: &Answers) -> String {
    let traffic = answers.traffic;
    let mut text = match traffic.direction {
        Direction::Bidirectional => format!("bidirectional {}", traffic.use_case),
        Direction::ServerToClient => {
            format!(
                "server-to-client {}, freshness {}",
                traffic.use_case, traffic.freshness
            )
        }
    };
    let c = answers.constraints;
    let set: Vec<&str> = [
        ("websockets_blocked", c.websockets_blocked),
        ("legacy_clients", c.legacy_clients),
        ("mvp", c.mvp),
        ("mobile", c.mobile),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if !set.is_empty() {
        text.push_str(&format!("; constraints: {}", set.join(", ")));
    }
    text
}

//! The recommendation for people. Colour only on a terminal and never with NO_COLOR
//! (console decides both for stdout).

use console::style;

use crate::advisor::{Recommendation, Sizing, sizing};
use crate::answers::{Answers, Direction, Named, PartialAnswers, Upstream, presets};
use crate::notes;

pub fn render(rec: &Recommendation, answers: &Answers) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let chosen = notes::of(rec.strategy);
    let label = if rec.strategy_overridden() {
        "Chosen:"
    } else {
        "Recommended:"
    };
    let mut headline = format!(
        "{} {}  {}",
        style(label).bold(),
        style(rec.strategy).bold().green(),
        chosen.title
    );
    if rec.strategy_overridden() {
        headline.push_str(&format!(
            "  (your override; rtgen recommends {})",
            rec.recommended.strategy
        ));
    }
    line(headline);
    line(format!("  {}", chosen.hint));
    line(format!(
        "  upstream: {}  ({})",
        rec.upstream,
        upstream_text(rec.upstream)
    ));
    line(format!("  fan-out:  {}", fanout_text(rec, rec.servers)));
    line(format!("  access:   {}  ({})", rec.auth, auth_text(rec)));
    line(format!("  for:      {}", describe(answers)));

    if let Some(sizing) = &rec.sizing {
        line(String::new());
        line(style("Sizing").bold().to_string());
        for row in sizing_rows(sizing) {
            line(format!("  {row}"));
        }
    }

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
    out
}

/// The sizing as a short two-column table, then its basis.
pub fn sizing_rows(sizing: &Sizing) -> Vec<String> {
    let rows = sizing::table(sizing);
    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|(label, value)| format!("{label:width$}  {value}"))
        .collect();
    out.push(format!("basis: {}", sizing.basis));
    out
}

/// One line saying what would be generated, for `rtgen new --dry-run`.
pub fn chosen_line(rec: &Recommendation) -> String {
    format!(
        "Strategy: {}{}\nFan-out:  {}\nAccess:   {}",
        rec.strategy,
        if rec.strategy_overridden() {
            format!(
                " (your override; rtgen recommends {})",
                rec.recommended.strategy
            )
        } else {
            String::new()
        },
        fanout_text(rec, rec.servers),
        rec.auth,
    )
}

/// Every answer the preset gives, as `key = value`, marking those a later source (file,
/// `--set`, flag) replaced: a preset's answers are shown, never hidden.
pub fn preset_answers(preset: &str, layered: &PartialAnswers) -> String {
    let mut out = format!("{}\n", style(format!("Preset {preset} answers")).bold());
    let used = layered.given();
    for (key, value, _) in presets::load(preset).map(|p| p.given()).unwrap_or_default() {
        match used.iter().find(|(k, _, _)| *k == key) {
            Some((_, v, origin)) if *v != value => {
                out.push_str(&format!("  {key} = {value}  (replaced by {origin})\n"))
            }
            Some(_) => out.push_str(&format!("  {key} = {value}\n")),
            // Layering drops only a preset's `servers`, when sizing answers replace it.
            None => out.push_str(&format!(
                "  {key} = {value}  (yields to your sizing answers)\n"
            )),
        }
    }
    out
}

/// Wraps every line to `width` columns, continuing a list item under its text.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let hanging = indent
            + ["- ", "! ", "-> "]
                .iter()
                .find(|bullet| line[indent..].starts_with(*bullet))
                .map_or(0, |bullet| bullet.len());
        let continuation = " ".repeat(hanging);
        let options = textwrap::Options::new(width.max(hanging + 20))
            .subsequent_indent(&continuation)
            .break_words(false);
        out.push_str(&textwrap::fill(line, options));
        out.push('\n');
    }
    out
}

fn upstream_text(upstream: Upstream) -> &'static str {
    match upstream {
        Upstream::Websocket => "clients send on the same WebSocket",
        Upstream::HttpPost => "clients send with HTTP POST",
        Upstream::None => "clients only receive",
    }
}

/// The chosen fan-out, and rtgen's recommendation beside it when they differ.
fn fanout_text(rec: &Recommendation, servers: u32) -> String {
    let chosen = format!(
        "{}  ({})",
        rec.fanout,
        notes::fanout_text(rec.fanout, servers)
    );
    if rec.fanout_overridden() {
        format!(
            "{chosen}; your override, rtgen recommends {} ({})",
            rec.recommended.fanout,
            notes::fanout_text(rec.recommended.fanout, servers)
        )
    } else {
        chosen
    }
}

fn auth_text(rec: &Recommendation) -> &'static str {
    match rec.auth {
        crate::answers::Auth::Jwt => "every subscriber and publisher shows a JSON Web Token",
        crate::answers::Auth::None => "anyone may read any channel",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole_and_hangs_list_items() {
        let text = "  - one two three four five six seven eight nine ten\nshort\n";
        let wrapped = wrap(text, 24);
        assert_eq!(
            wrapped,
            "  - one two three four\n    five six seven eight\n    nine ten\nshort\n"
        );
    }
}

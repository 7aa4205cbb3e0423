//! `rtgen explain [STRATEGY]`: the strategies and the decision framework, from the same
//! notes and rule tables the advisor uses.

use std::io::Write;

use console::style;

use crate::advisor::rules::{EXCLUSIONS, RULES};
use crate::cli::ExplainArgs;
use crate::error::{Error, Result};
use crate::notes::{self, StrategyNotes};

pub fn run(args: ExplainArgs) -> Result<()> {
    let text = match args.strategy {
        Some(strategy) => in_depth(notes::of(strategy)),
        None => overview(),
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|err| Error::io("write to", "standard output", err))
}

fn overview() -> String {
    let mut out = String::new();
    out.push_str(&format!("{}\n\n", style("The four strategies").bold()));
    for notes in &notes::STRATEGIES {
        out.push_str(&format!(
            "{}  {}\n",
            style(notes.strategy).bold().green(),
            notes.title
        ));
        out.push_str(&format!("  How:  {}\n", notes.how));
        out.push_str(&format!("  Pros: {}\n", notes.pros.join("; ")));
        let cons: Vec<&str> = notes.cons.iter().map(|c| c.problem).collect();
        out.push_str(&format!("  Cons: {}\n", cons.join("; ")));
        out.push_str(&format!("  For:  {}\n\n", notes.use_cases.join(", ")));
    }
    out.push_str(&decision_tree());
    out.push_str(
        "\nMore on one strategy: rtgen explain short-polling|long-polling|sse|websocket\n",
    );
    out
}

/// The framework drawn from the rule tables, so the picture cannot drift from the code.
pub fn decision_tree() -> String {
    let mut out = format!("{}\n", style("Decision framework").bold());
    out.push_str("├─ 1. Hard constraints remove strategies\n");
    for (i, exclusion) in EXCLUSIONS.iter().enumerate() {
        let branch = if i + 1 == EXCLUSIONS.len() {
            "└─"
        } else {
            "├─"
        };
        let removed: Vec<&str> = exclusion
            .removes
            .iter()
            .map(|s| notes::of(*s).title)
            .collect();
        out.push_str(&format!(
            "│  {branch} {} ──▶ no {}\n",
            exclusion.key.trim_start_matches("constraints."),
            removed.join(", no ")
        ));
    }
    out.push_str("├─ 2. The first matching rule wins\n");
    for (i, rule) in RULES.iter().enumerate() {
        let last = i + 1 == RULES.len();
        let (branch, trunk) = if last {
            ("└─", "   ")
        } else {
            ("├─", "│  ")
        };
        let letter = char::from(b'a' + u8::try_from(i).expect("a handful of rules"));
        out.push_str(&format!("│  {branch} {letter}. {}\n", rule.when));
        out.push_str(&format!("│  {trunk}   ──▶ {}\n", rule.then));
    }
    out.push_str(
        "├─ 3. Fan-out: scale.servers > 1 ──▶ Redis pub/sub; otherwise in-process memory\n",
    );
    out.push_str(&format!(
        "│     (without scale.servers, the instances the sizing answers need: CPU and memory\n\
         │      at most half of a {}-core instance, figures from rtgen's benchmark)\n",
        crate::advisor::sizing::INSTANCE_CORES
    ));
    out.push_str("└─ 4. [generate] overrides win, with a warning where they cost something;\n");
    out.push_str("      an override that breaks a hard constraint or cannot work is an error\n");
    out
}

fn in_depth(notes: &StrategyNotes) -> String {
    let mut out = format!(
        "{}  {}\n",
        style(notes.strategy).bold().green(),
        style(notes.title).bold()
    );
    out.push_str(&format!("{}\n\n", notes.hint));
    out.push_str(&format!(
        "{}\n  {}\n\n",
        style("How it works").bold(),
        notes.how
    ));
    out.push_str(&format!("{}\n", style("Pros").bold()));
    for pro in notes.pros {
        out.push_str(&format!("  + {pro}\n"));
    }
    out.push_str(&format!(
        "\n{}\n",
        style("Cons, and how to mitigate them").bold()
    ));
    for con in notes.cons {
        out.push_str(&format!("  - {}\n    -> {}\n", con.problem, con.mitigation));
    }
    out.push_str(&format!(
        "  - {}\n    -> {}\n",
        notes.mobile.problem, notes.mobile.mitigation
    ));
    out.push_str(&format!(
        "\n{}\n  {}\n",
        style("Use cases").bold(),
        notes.use_cases.join(", ")
    ));
    out.push_str(&format!(
        "\n{}\n  Try it: rtgen new demo --strategy {} --preset {}\n",
        style("Hints").bold(),
        notes.strategy,
        notes.demo_preset
    ));
    out
}

//! Command-line definitions. Help, completions and parsing all come from these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::answers::{Fanout, Override, Strategy, keys, presets};

const EXAMPLES: &str = "\
Examples:
  rtgen advise                                   # interview, then a recommendation
  rtgen advise --preset chat                     # a built-in answer set, no questions
  rtgen advise --answers rtgen.toml --format json
  rtgen advise --preset news-feed --set scale.servers=3
  rtgen answers > rtgen.toml                     # a commented answers file to fill in
  rtgen explain sse                              # one strategy in depth
  rtgen new live-scores --answers rtgen.toml --yes

  rtgen update live-scores --set scale.servers=3

Exit codes: 0 ok, 1 failure, 2 invalid usage or answers, 3 target directory not empty (or
already an rtgen project: use `rtgen update`), 4 update needs your hands (conflicts),
5 `update --check` found the project behind, 130 interrupted (nothing written).";

#[derive(Debug, Parser)]
#[command(name = "rtgen", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recommend a real-time delivery strategy (asks only what is not answered yet)
    #[command(after_help = ADVISE_EXAMPLES)]
    Advise(AdviseArgs),
    /// Generate an axum service for the recommended (or chosen) strategy
    New(NewArgs),
    /// Bring a generated project up to date with this rtgen and its answers, keeping the team's edits
    // --preset is accepted only to be refused with a reason: a preset would replace the
    // project's answers with a canned set.
    #[command(after_help = UPDATE_EXAMPLES, mut_arg("preset", |arg| arg.hide(true)))]
    Update(UpdateArgs),
    /// Explain the four strategies and the decision framework
    Explain(ExplainArgs),
    /// Print a complete, commented answers file to fill in
    Answers,
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  rtgen completions bash > ~/.local/share/bash-completion/completions/rtgen"
    )]
    Completions(CompletionsArgs),
}

const ADVISE_EXAMPLES: &str = "\
Answers are layered: --strategy/--fanout beat --set, which beats --answers, which beats --preset.

Examples:
  rtgen advise
  rtgen advise --preset dashboard --set traffic.freshness=instant
  rtgen advise --preset news-feed --set scale.connections=200000 \\
    --set scale.messages_per_second=100 --set scale.subscribers_per_message=1000   # sized
  rtgen answers | sed 's/^servers = .*/servers = 2/' > rtgen.toml
  cat rtgen.toml | rtgen advise --answers - --format json";

const UPDATE_EXAMPLES: &str = "\
Answers are the project's rtgen.toml (or --answers FILE instead), then --set, then
--strategy/--fanout. rtgen re-decides its own choices only when an answer changed.

Examples:
  rtgen update                          # this rtgen's templates, same answers
  rtgen update --set scale.servers=3    # three servers: Redis fan-out
  rtgen update --strategy websocket
  rtgen update --check                  # in CI: exit 5 when an update would change files
  rtgen update --dry-run                # the per-file plan, nothing written

Exit codes: 0 updated or already current, 4 updated but conflicts or obsolete files need
you, 5 (--check) an update would change the project, 2 invalid usage or answers, 1 failure,
130 interrupted. On 2, 1 and 130 nothing is written.";

/// Where answers come from, shared by `advise` and `new`.
#[derive(Debug, Clone, Default, Args)]
pub struct AnswerSources {
    /// Read answers from a TOML file (`-` reads standard input)
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Set one answer, e.g. traffic.use_case=chat (repeatable; `rtgen answers` lists the keys)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = SetArg, hide_possible_values = true)]
    pub set: Vec<String>,

    /// Start from a built-in answer set
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(presets::NAMES))]
    pub preset: Option<String>,

    /// Override the recommended strategy
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub strategy: Option<StrategyChoice>,

    /// Override the fan-out between servers
    #[arg(long, value_enum, value_name = "FANOUT")]
    pub fanout: Option<FanoutChoice>,
}

#[derive(Debug, Args)]
pub struct AdviseArgs {
    #[command(flatten)]
    pub sources: AnswerSources,

    /// Output format: text for people, json for scripts
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `rtgen new`, as specified in issue 3.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// Project (cargo package) name; also the default directory
    pub name: Option<String>,

    /// Write the project here instead of ./NAME
    #[arg(long, short, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Accept the recommendation without asking
    #[arg(long, short)]
    pub yes: bool,

    /// Print the files that would be written, with sizes, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write into a non-empty directory, replacing only the files rtgen generates
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub sources: AnswerSources,
}

/// `rtgen update`, as specified in issue 15.
#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// The project to update; rtgen reads PATH/rtgen.toml, never a parent's
    #[arg(value_name = "PATH", default_value = ".")]
    pub path: PathBuf,

    /// Write nothing; exit 0 when the project is current with this rtgen and its answers, 5 when
    /// an update would change it
    #[arg(long, conflicts_with_all = ["dry_run", "adopt"])]
    pub check: bool,

    /// Print what would happen to each file, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Take over a project generated before rtgen kept its copy in .rtgen/: files that differ
    /// from this rtgen's get conflict markers to settle once
    #[arg(long)]
    pub adopt: bool,

    /// Update even though git reports uncommitted changes under PATH
    #[arg(long)]
    pub allow_dirty: bool,

    #[command(flatten)]
    pub sources: AnswerSources,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Explain this strategy in depth
    #[arg(value_enum)]
    pub strategy: Option<Strategy>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `--set KEY=VALUE`: any text is taken here (the answers validate it, with a message
/// that names the key); the possible values exist for shell completion, which offers
/// every `key=value` with a short list of values and `key=` for the rest.
#[derive(Debug, Clone, Copy)]
struct SetArg;

impl clap::builder::TypedValueParser for SetArg {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let candidates = keys::ALL.iter().flat_map(|spec| {
            let key = spec.key();
            let values = key.kind.values();
            let help = key.about;
            let pairs: Vec<String> = if values.is_empty() {
                vec![format!("{}=", key.path)]
            } else {
                values
                    .iter()
                    .map(|value| format!("{}={value}", key.path))
                    .collect()
            };
            pairs
                .into_iter()
                .map(move |pair| clap::builder::PossibleValue::new(pair).help(help))
        });
        Some(Box::new(candidates))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyChoice {
    Auto,
    ShortPolling,
    LongPolling,
    Sse,
    Websocket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FanoutChoice {
    Auto,
    Memory,
    Redis,
}

impl From<StrategyChoice> for Override<Strategy> {
    fn from(choice: StrategyChoice) -> Self {
        match choice {
            StrategyChoice::Auto => Override::Auto,
            StrategyChoice::ShortPolling => Override::Fixed(Strategy::ShortPolling),
            StrategyChoice::LongPolling => Override::Fixed(Strategy::LongPolling),
            StrategyChoice::Sse => Override::Fixed(Strategy::Sse),
            StrategyChoice::Websocket => Override::Fixed(Strategy::Websocket),
        }
    }
}

impl From<FanoutChoice> for Override<Fanout> {
    fn from(choice: FanoutChoice) -> Self {
        match choice {
            FanoutChoice::Auto => Override::Auto,
            FanoutChoice::Memory => Override::Fixed(Fanout::Memory),
            FanoutChoice::Redis => Override::Fixed(Fanout::Redis),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}

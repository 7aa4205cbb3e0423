//! Project names, checked the way `cargo new` checks package names (cargo's
//! `check_name`), plus two rules of our own so the generated project is
//! warning-free: no uppercase (rustc's `non_snake_case` fires on the crate
//! name, and the project must pass clippy with `-D warnings`) and no leading
//! `-` (it would be read as an option on every command line that names it).

use std::fmt;

/// Package registries refuse longer names; a longer directory name helps nobody.
pub const MAX_LEN: usize = 64;

/// A name that is safe as a directory name, a package name and (with `-`
/// turned into `_`) a Rust identifier, on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(name: &str) -> Result<Self, NameError> {
        match problem(name) {
            None => Ok(Self(name.to_owned())),
            Some(reason) => Err(NameError {
                name: name.to_owned(),
                suggestions: suggestions(name, &reason),
                reason,
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The crate's identifier in Rust code: `live-scores` -> `live_scores`.
    pub fn ident(&self) -> String {
        self.0.replace('-', "_")
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a name was refused, and names that would be accepted instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    pub name: String,
    pub reason: Reason,
    /// Valid names close to the refused one, best first; may be empty.
    pub suggestions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Empty,
    TooLong,
    Path,
    InvalidChars(Vec<char>),
    Uppercase,
    LeadingDigit,
    LeadingDash,
    NoLetter,
    Keyword,
    Reserved(&'static str),
    WindowsDevice,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.reason {
            Reason::Empty => write!(f, "the project name is empty"),
            Reason::TooLong => write!(
                f,
                "the project name `{name}` is {} characters long; the limit is {MAX_LEN}",
                name.chars().count()
            ),
            Reason::Path => write!(
                f,
                "the project name `{name}` is a path; a name is a single word, \
                 and the directory to write goes in --output DIR"
            ),
            Reason::InvalidChars(chars) => {
                let list: Vec<String> = chars.iter().map(|c| format!("{c:?}")).collect();
                write!(
                    f,
                    "the project name `{name}` contains {}; only lowercase ASCII letters, \
                     digits, `-` and `_` are allowed",
                    list.join(", ")
                )
            }
            Reason::Uppercase => write!(
                f,
                "the project name `{name}` contains uppercase letters; Rust crate names are \
                 snake_case or kebab-case (rustc warns otherwise, and the generated project \
                 must build without warnings)"
            ),
            Reason::LeadingDigit => write!(
                f,
                "the project name `{name}` starts with a digit, so it cannot be a Rust crate name"
            ),
            Reason::LeadingDash => write!(
                f,
                "the project name `{name}` starts with `-`, so command lines would read it as an option"
            ),
            Reason::NoLetter => write!(
                f,
                "the project name `{name}` has no letter or digit, so it cannot be a crate name"
            ),
            Reason::Keyword => write!(
                f,
                "the project name `{name}` is a Rust keyword, so it cannot be a crate name"
            ),
            Reason::Reserved(why) => write!(f, "the project name `{name}` is reserved: {why}"),
            Reason::WindowsDevice => write!(
                f,
                "the project name `{name}` is a reserved device name on Windows; \
                 a directory with that name cannot be created there"
            ),
        }
    }
}

impl NameError {
    /// What to do instead: valid names close to the refused one.
    pub fn hint(&self) -> String {
        let quoted: Vec<String> = self.suggestions.iter().map(|s| format!("`{s}`")).collect();
        match (&self.reason, quoted.as_slice()) {
            (Reason::Path, [name, ..]) => format!(
                "give the name alone and the directory separately, e.g. `rtgen new {} --output {}`",
                name.trim_matches('`'),
                self.name
            ),
            (_, []) => "choose a name such as `live-scores`".to_owned(),
            (_, names) => format!("try {}", names.join(" or ")),
        }
    }
}

impl std::error::Error for NameError {}

/// Keywords of every edition, including the reserved ones, as cargo lists them.
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

fn reserved(ident: &str) -> Option<&'static str> {
    match ident {
        "std" | "core" | "alloc" | "proc_macro" => {
            Some("it is the name of a crate of Rust's standard library")
        }
        "test" => Some("it conflicts with Rust's built-in test library"),
        // Cargo puts directories with these names next to the binaries it builds.
        "deps" | "examples" | "build" | "incremental" => {
            Some("cargo uses it as a directory name inside target/")
        }
        _ => None,
    }
}

fn is_windows_device(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "con" | "prn" | "aux" | "nul")
        || ["com", "lpt"].iter().any(|prefix| {
            lower
                .strip_prefix(prefix)
                .is_some_and(|n| n.len() == 1 && matches!(n.as_bytes()[0], b'1'..=b'9'))
        })
}

/// The first rule `name` breaks, in the order a person would fix them.
fn problem(name: &str) -> Option<Reason> {
    if name.is_empty() {
        return Some(Reason::Empty);
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Some(Reason::Path);
    }
    let mut invalid: Vec<char> = name
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .collect();
    if !invalid.is_empty() {
        let mut seen = Vec::new();
        invalid.retain(|c| {
            let first = !seen.contains(c);
            seen.push(*c);
            first
        });
        return Some(Reason::InvalidChars(invalid));
    }
    if name.chars().count() > MAX_LEN {
        return Some(Reason::TooLong);
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(Reason::Uppercase);
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(Reason::LeadingDigit);
    }
    if name.starts_with('-') {
        return Some(Reason::LeadingDash);
    }
    // `_` alone is not an identifier, and a name of only separators says nothing.
    if !name.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return Some(Reason::NoLetter);
    }
    let ident = name.replace('-', "_");
    if KEYWORDS.contains(&ident.as_str()) {
        return Some(Reason::Keyword);
    }
    if let Some(why) = reserved(&ident) {
        return Some(Reason::Reserved(why));
    }
    if is_windows_device(name) {
        return Some(Reason::WindowsDevice);
    }
    None
}

/// Valid names close to `name`: the refused part repaired, not the whole name replaced.
fn suggestions(name: &str, reason: &Reason) -> Vec<String> {
    let candidates: Vec<String> = match reason {
        Reason::Empty | Reason::NoLetter => vec![],
        Reason::Path => {
            let last = name
                .rsplit(['/', '\\'])
                .find(|part| !part.is_empty() && *part != "." && *part != "..")
                .unwrap_or_default();
            vec![sanitize(last)]
        }
        Reason::InvalidChars(_) | Reason::Uppercase | Reason::LeadingDash => vec![sanitize(name)],
        Reason::TooLong => vec![truncate(name)],
        Reason::LeadingDigit => {
            let digits = name.chars().take_while(char::is_ascii_digit).count();
            let rest = name[digits..].trim_start_matches(['-', '_']);
            let mut out = Vec::new();
            if !rest.is_empty() {
                out.push(format!("{rest}{}", &name[..digits]));
            }
            out.push(format!("app-{name}"));
            out
        }
        Reason::Keyword | Reason::Reserved(_) | Reason::WindowsDevice => {
            vec![format!("{name}-app"), format!("my-{name}")]
        }
    };
    let mut valid: Vec<String> = Vec::new();
    for candidate in candidates {
        // A repair can expose another problem (`My 2fast` -> `my-2fast` is fine,
        // `2 Fast` -> `2-fast` is not), so repair until valid or give up.
        let mut candidate = candidate;
        for _ in 0..3 {
            match problem(&candidate) {
                None => {
                    if !valid.contains(&candidate) {
                        valid.push(candidate);
                    }
                    break;
                }
                Some(reason) => match suggestions_once(&candidate, &reason) {
                    Some(next) => candidate = next,
                    None => break,
                },
            }
        }
    }
    valid
}

/// The single best repair, used to chain repairs without recursion.
fn suggestions_once(name: &str, reason: &Reason) -> Option<String> {
    match reason {
        Reason::Empty | Reason::Path | Reason::NoLetter => None,
        Reason::InvalidChars(_) | Reason::Uppercase | Reason::LeadingDash => Some(sanitize(name)),
        Reason::TooLong => Some(truncate(name)),
        Reason::LeadingDigit => Some(format!("app-{name}")),
        Reason::Keyword | Reason::Reserved(_) | Reason::WindowsDevice => {
            Some(format!("{name}-app"))
        }
    }
}

/// kebab-case from anything: `My App!` -> `my-app`, `LiveScores` -> `live-scores`.
fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut prev_lower_or_digit = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
            prev_lower_or_digit = c != '_';
        } else {
            if !out.ends_with('-') {
                out.push('-');
            }
            prev_lower_or_digit = false;
        }
    }
    out.trim_matches('-').to_owned()
}

fn truncate(name: &str) -> String {
    name.chars()
        .take(MAX_LEN)
        .collect::<String>()
        .trim_end_matches(['-', '_'])
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cargo_style_names() {
        for name in [
            "live-scores",
            "live_scores",
            "a",
            "app2",
            "x-1_y",
            "tests",
            "selfie",
            "console",
            "com10",
            "lpt0",
            &"a".repeat(MAX_LEN),
        ] {
            let parsed = ProjectName::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(parsed.as_str(), name);
        }
        assert_eq!(
            ProjectName::parse("live-scores").unwrap().ident(),
            "live_scores"
        );
    }

    /// (input, reason, suggestions)
    fn refused() -> Vec<(String, Reason, Vec<&'static str>)> {
        vec![
            ("".into(), Reason::Empty, vec![]),
            ("foo/bar".into(), Reason::Path, vec!["bar"]),
            ("..".into(), Reason::Path, vec![]),
            ("../up".into(), Reason::Path, vec!["up"]),
            ("a\\b".into(), Reason::Path, vec!["b"]),
            (
                "my app".into(),
                Reason::InvalidChars(vec![' ']),
                vec!["my-app"],
            ),
            (
                "my.app!".into(),
                Reason::InvalidChars(vec!['.', '!']),
                vec!["my-app"],
            ),
            ("café".into(), Reason::InvalidChars(vec!['é']), vec!["caf"]),
            ("MyApp".into(), Reason::Uppercase, vec!["my-app"]),
            (
                "2fast".into(),
                Reason::LeadingDigit,
                vec!["fast2", "app-2fast"],
            ),
            ("123".into(), Reason::LeadingDigit, vec!["app-123"]),
            ("-x".into(), Reason::LeadingDash, vec!["x"]),
            ("_".into(), Reason::NoLetter, vec![]),
            (
                "a b a".into(),
                Reason::InvalidChars(vec![' ']),
                vec!["a-b-a"],
            ),
            ("fn".into(), Reason::Keyword, vec!["fn-app", "my-fn"]),
            ("self".into(), Reason::Keyword, vec!["self-app", "my-self"]),
            ("Self".into(), Reason::Uppercase, vec!["self-app"]),
            (
                "async".into(),
                Reason::Keyword,
                vec!["async-app", "my-async"],
            ),
            ("gen".into(), Reason::Keyword, vec!["gen-app", "my-gen"]),
            (
                "abstract".into(),
                Reason::Keyword,
                vec!["abstract-app", "my-abstract"],
            ),
            (
                "test".into(),
                Reason::Reserved("it conflicts with Rust's built-in test library"),
                vec!["test-app", "my-test"],
            ),
            (
                "proc-macro".into(),
                Reason::Reserved("it is the name of a crate of Rust's standard library"),
                vec!["proc-macro-app", "my-proc-macro"],
            ),
            (
                "build".into(),
                Reason::Reserved("cargo uses it as a directory name inside target/"),
                vec!["build-app", "my-build"],
            ),
            (
                "nul".into(),
                Reason::WindowsDevice,
                vec!["nul-app", "my-nul"],
            ),
            (
                "com7".into(),
                Reason::WindowsDevice,
                vec!["com7-app", "my-com7"],
            ),
            (
                "lpt1".into(),
                Reason::WindowsDevice,
                vec!["lpt1-app", "my-lpt1"],
            ),
            (
                "a".repeat(MAX_LEN + 1),
                Reason::TooLong,
                vec!["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
            ),
        ]
    }

    #[test]
    fn refuses_each_class_with_a_valid_suggestion() {
        for (name, reason, suggestions) in refused() {
            let err = ProjectName::parse(&name).expect_err(&name);
            assert_eq!(err.reason, reason, "{name}");
            assert_eq!(err.suggestions, suggestions, "{name}");
            for s in &err.suggestions {
                assert!(
                    ProjectName::parse(s).is_ok(),
                    "suggestion {s} for {name} is invalid"
                );
            }
        }
    }

    #[test]
    fn messages_say_why_and_what_to_do() {
        let err = ProjectName::parse("2fast").unwrap_err();
        assert!(err.to_string().contains("starts with a digit"), "{err}");
        assert_eq!(err.hint(), "try `fast2` or `app-2fast`");

        let err = ProjectName::parse("foo/bar").unwrap_err();
        assert!(err.to_string().contains("--output"), "{err}");
        assert_eq!(
            err.hint(),
            "give the name alone and the directory separately, e.g. `rtgen new bar --output foo/bar`"
        );

        let err = ProjectName::parse("").unwrap_err();
        assert_eq!(err.hint(), "choose a name such as `live-scores`");

        let err = ProjectName::parse("a b\tc").unwrap_err().to_string();
        assert!(err.contains("' ', '\\t'"), "{err}");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for name in [
            "\0",
            "-",
            "_",
            "--",
            "9",
            "é9",
            "\u{202e}x",
            "/",
            "///",
            "a/..",
            "COM1",
        ] {
            if let Err(e) = ProjectName::parse(name) {
                let _ = e.to_string();
            }
        }
    }
}

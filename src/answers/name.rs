//! Cargo's package-name rules (after cargo's `check_name`), so that `rtgen new` never
//! generates a project cargo refuses to build.

/// Why `name` cannot be a package name, and a name that would work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameProblem {
    pub reason: String,
    pub suggestion: Option<String>,
}

const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Crates of the standard distribution and names cargo uses for its own directories.
const RESERVED: &[&str] = &[
    "alloc",
    "core",
    "proc_macro",
    "proc-macro",
    "std",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
];

const WINDOWS_DEVICES: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

pub fn check_package_name(name: &str) -> Result<(), NameProblem> {
    match why_invalid(name) {
        None => Ok(()),
        Some(reason) => Err(NameProblem {
            reason,
            suggestion: suggest(name),
        }),
    }
}

fn why_invalid(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return Some("it contains a path separator or `..`; use --output DIR to choose where the project goes".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Some(format!(
            "the character {bad:?} is not allowed; use only ASCII letters, digits, `-` and `_`"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("it starts with a digit".into());
    }
    if KEYWORDS.contains(&name) {
        return Some(format!("`{name}` is a Rust keyword"));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) {
        return Some(format!("`{name}` is reserved by Rust or cargo"));
    }
    if WINDOWS_DEVICES.contains(&lower.as_str()) {
        return Some(format!("`{name}` is a reserved Windows device name"));
    }
    None
}

/// A nearby name that passes the rules, if one is easy to derive.
fn suggest(name: &str) -> Option<String> {
    let last_component = name
        .rsplit(['/', '\\'])
        .find(|part| !part.is_empty() && *part != "..")
        .unwrap_or("");
    let cleaned: String = last_component
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '-')
        .trim_end_matches('-');
    let candidate = if cleaned.is_empty() {
        "my-service".to_string()
    } else if why_invalid(cleaned).is_none() {
        cleaned.to_string()
    } else {
        format!("{cleaned}-service")
    };
    (candidate != name && why_invalid(&candidate).is_none()).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["live-scores", "chat_server", "a", "Service2"] {
            assert_eq!(check_package_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_with_reason_and_suggestion() {
        let cases = [
            ("2fast", "starts with a digit", Some("fast")),
            ("self", "keyword", Some("self-service")),
            ("test", "reserved", Some("test-service")),
            ("nul", "Windows device", Some("nul-service")),
            ("my app", "not allowed", Some("my-app")),
            ("../x", "path separator", Some("x")),
            ("", "empty", Some("my-service")),
        ];
        for (name, reason, suggestion) in cases {
            let err = check_package_name(name).unwrap_err();
            assert!(err.reason.contains(reason), "{name}: {}", err.reason);
            assert_eq!(err.suggestion.as_deref(), suggestion, "{name}");
        }
    }
}

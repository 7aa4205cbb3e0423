//! "Did you mean" for near misses such as `use-case` or `websockets`.

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normalized = normalize(input);
    candidates
        .iter()
        .map(|candidate| {
            (
                candidate,
                strsim::jaro_winkler(&normalized, &normalize(candidate)),
            )
        })
        .filter(|(_, similarity)| *similarity >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| *candidate)
}

/// `use-case`, `Use_Case` and `use_case` differ only in spelling conventions.
fn normalize(s: &str) -> String {
    s.to_ascii_lowercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn near_misses_are_suggested() {
        assert_eq!(
            closest("use-case", &["direction", "use_case", "freshness"]),
            Some("use_case")
        );
        assert_eq!(
            closest("websockets", &["auto", "sse", "websocket"]),
            Some("websocket")
        );
        assert_eq!(closest("sever", &["servers"]), Some("servers"));
    }

    #[test]
    fn unrelated_input_gets_no_suggestion() {
        assert_eq!(
            closest("banana", &["direction", "use_case", "freshness"]),
            None
        );
    }
}

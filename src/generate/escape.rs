//! Escaping of user text (project name, description) for each kind of file it
//! lands in. Templates never interpolate raw user text: each of these returns a
//! complete, self-delimiting token for its target, so a description holding
//! quotes, backslashes, `{{`, `</script>` or newlines cannot break the file.

use std::fmt::Write;

/// Characters that are legal inside a Rust string literal but that rustc
/// rejects (bidirectional overrides: deny-by-default lint
/// `text_direction_codepoint_in_literal`) or that hide text from a reviewer.
fn is_invisible_or_bidi(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2028}' | '\u{2029}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A complete TOML basic string, quotes included: `a "b"` -> `"a \"b\""`.
pub fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // TOML forbids every other control character in a basic string.
            c if c.is_control() || is_invisible_or_bidi(c) => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A complete Rust string literal, quotes included, that rustc accepts without
/// warnings and that evaluates to `s`.
pub fn rust_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || is_invisible_or_bidi(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// HTML text or a double- or single-quoted attribute value.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal, quotes included, that is also safe inside an HTML
/// `<script>` element: no `</script>`, `<!--` or `&` can appear in it, and the
/// line separators that older JavaScript parsers reject are escaped.
pub fn js_str(s: &str) -> String {
    // Escapes after serialization are safe: JSON's own escape sequences never
    // contain these characters, so every occurrence is part of the text.
    let json = serde_json::Value::String(s.to_owned()).to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// One line of Markdown that renders as the literal text: line breaks become
/// spaces and everything that could start formatting, a link, inline HTML or
/// (at the start of the line) a heading, list, quote or table is escaped.
pub fn md(s: &str) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(line.len() + 8);
    for (i, c) in line.chars().enumerate() {
        let at_start = i == 0;
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '-' | '+' | '=' if at_start => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_invisible_or_bidi(c) => {}
            c => out.push(c),
        }
    }
    // `1. x` or `1) x` at the start of a line would become an ordered list.
    let digits = out.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(out.as_bytes().get(digits), Some(b'.' | b')')) {
        out.insert(digits, '\\');
    }
    out
}

/// One line of text for a `//` comment, and for a `//!`/`///` doc comment,
/// where rustdoc reads Markdown (a leading fence would even start a doctest
/// that `cargo test` compiles): the same as [`md`], which also drops the
/// bidirectional-override characters rustc rejects in comments.
pub fn rust_comment(s: &str) -> String {
    md(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &[&str] = &[
        "",
        "plain",
        r#"quote " and backslash \ and {{ jinja }} {% raw %}"#,
        "</script><script>alert(1)</script>",
        "line\nbreak\r\nand\ttab",
        "nul \0 bell \u{7} del \u{7f} esc \u{1b}",
        "ü ß 日本 🎉",
        "bidi \u{202e}evil\u{202c} and \u{2028}\u{2029} and \u{feff}",
        "'''\"\"\" triple",
        "\\u0041 not an escape",
    ];

    #[test]
    fn toml_str_round_trips_through_the_toml_parser() {
        #[derive(serde::Deserialize)]
        struct Doc {
            d: String,
        }
        for s in NASTY {
            let doc = format!("d = {}\n", toml_str(s));
            let parsed: Doc = toml::from_str(&doc).unwrap_or_else(|e| panic!("{doc}: {e}"));
            assert_eq!(&parsed.d, s);
        }
    }

    /// A tiny evaluator of the escapes `rust_str` emits; the real proof that
    /// rustc accepts them is the generated-project build in CI.
    fn eval_rust_literal(lit: &str) -> String {
        let inner = lit
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
            .expect("quoted");
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            assert!(c != '"', "unescaped quote in {lit}");
            assert!(!c.is_control(), "raw control char in {lit}");
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next().expect("escape") {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '0' => out.push('\0'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'u' => {
                    assert_eq!(chars.next(), Some('{'));
                    let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => panic!("unknown escape \\{other} in {lit}"),
            }
        }
        out
    }

    #[test]
    fn rust_str_round_trips() {
        for s in NASTY {
            let lit = rust_str(s);
            assert!(!lit.contains('\u{202e}'), "{lit}");
            assert_eq!(&eval_rust_literal(&lit), s);
        }
    }

    #[test]
    fn html_leaves_no_markup() {
        let out = html(r#"</script> <b a="x" b='y'> & &amp;"#);
        assert_eq!(
            out,
            "&lt;/script&gt; &lt;b a=&quot;x&quot; b=&#39;y&#39;&gt; &amp; &amp;amp;"
        );
    }

    #[test]
    fn js_str_is_json_and_script_safe() {
        for s in NASTY {
            let lit = js_str(s);
            for bad in ["<", ">", "&", "\u{2028}", "\u{2029}", "\n"] {
                assert!(!lit.contains(bad), "{bad:?} in {lit}");
            }
            let back: String = serde_json::from_str(&lit).unwrap();
            assert_eq!(&back, s);
        }
    }

    #[test]
    fn rust_comment_is_one_line_without_fences_or_bidi() {
        assert_eq!(
            rust_comment("```rust\nfn x() {}\n```"),
            "\\`\\`\\`rust fn x() {} \\`\\`\\`"
        );
        assert_eq!(rust_comment("a\u{202e}b"), "ab");
        for s in NASTY {
            assert!(!rust_comment(s).contains(['\n', '\r']));
        }
    }

    #[test]
    fn md_is_one_inert_line() {
        assert_eq!(md("a\nb\r\n  c"), "a b c");
        assert_eq!(md("# title"), "\\# title");
        assert_eq!(md("- item"), "\\- item");
        assert_eq!(md("1. item"), "1\\. item");
        assert_eq!(md("12) item"), "12\\) item");
        assert_eq!(md("a-b 1.5"), "a-b 1.5");
        assert_eq!(
            md("**x** [l](u) <b> `c` | ~s~ &amp;"),
            "\\*\\*x\\*\\* \\[l\\](u) \\<b\\> \\`c\\` \\| \\~s\\~ \\&amp;"
        );
        for s in NASTY {
            assert!(!md(s).contains('\n'));
        }
    }
}

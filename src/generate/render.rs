//! The minijinja environment every template and every output path is rendered
//! with. Settings are chosen so mistakes fail loudly instead of producing a
//! subtly wrong project: undefined variables are errors, nothing is escaped
//! behind the author's back (each value is escaped for its target with an
//! explicit filter), and whitespace handling matches what authors expect from
//! Jinja for line-oriented files such as Rust and TOML.

use include_dir::Dir;
use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior, Value};

use super::escape;

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Templates are looked up by their path under `templates/`, so
    /// `{% include "service/_partials/x.rs" %}` works from any template.
    pub fn new(templates: &'static Dir<'static>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // The default callback turns on HTML escaping for `.html` names, which
        // would double-escape values that already went through `|html`.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.set_loader(move |name| match templates.get_file(name) {
            None => Ok(None),
            Some(file) => match file.contents_utf8() {
                Some(text) => Ok(Some(text.to_owned())),
                None => Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "template `{name}` is not UTF-8; set `render = false` to copy it as is"
                    ),
                )),
            },
        });
        env.add_filter("toml_str", |s: &str| escape::toml_str(s));
        env.add_filter("rust_str", |s: &str| escape::rust_str(s));
        env.add_filter("rust_comment", |s: &str| escape::rust_comment(s));
        env.add_filter("html", |s: &str| escape::html(s));
        env.add_filter("js_str", |s: &str| escape::js_str(s));
        env.add_filter("md", |s: &str| escape::md(s));
        Self { env }
    }

    /// Renders the template at `name` (a path under `templates/`).
    pub fn render_file(&self, name: &str, ctx: &Value) -> Result<String, Error> {
        self.env.get_template(name)?.render(ctx)
    }

    /// Renders a short template held in a string, such as a manifest `path`;
    /// `name` identifies it in error messages.
    pub fn render_inline(&self, name: &str, source: &str, ctx: &Value) -> Result<String, Error> {
        self.env.render_named_str(name, source, ctx)
    }

    /// Compiles a template without rendering it, to report syntax errors in
    /// templates that no combination happens to select.
    pub fn check_syntax(&self, name: &str) -> Result<(), Error> {
        self.env.get_template(name).map(|_| ())
    }
}

/// One line for a person: what failed, where (template and line), and the
/// source excerpt when minijinja has one.
pub fn describe(err: &Error) -> String {
    let mut text = format!("{err:#}");
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(&format!("\ncaused by: {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use include_dir::include_dir;
    use minijinja::context;

    static FIXTURES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/render");

    fn renderer() -> Renderer {
        Renderer::new(&FIXTURES)
    }

    #[test]
    fn undefined_variables_are_errors_naming_the_template_and_line() {
        let err = renderer()
            .render_inline("path of x", "a\n{{ nope }}", &context! {})
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UndefinedError);
        let text = describe(&err);
        assert!(text.contains("path of x:2"), "{text}");
    }

    #[test]
    fn html_templates_are_not_auto_escaped() {
        let out = renderer()
            .render_file("page.html.j2", &context! { description => "<b>&" })
            .unwrap();
        assert_eq!(out, "<p>&lt;b&gt;&amp;</p>\n<p><b>&</p>\n");
    }

    #[test]
    fn whitespace_follows_trim_and_lstrip_blocks_and_keeps_the_final_newline() {
        let out = renderer()
            .render_file("blocks.txt.j2", &context! { items => vec!["a", "b"] })
            .unwrap();
        assert_eq!(out, "start\n- a\n- b\nend\n");
    }

    #[test]
    fn includes_resolve_from_the_templates_root() {
        let out = renderer()
            .render_file("with_include.txt.j2", &context! { who => "x" })
            .unwrap();
        assert_eq!(out, "before\nhello x\nafter\n");
    }

    #[test]
    fn filters_are_registered() {
        let ctx = context! { d => "a\"b" };
        let r = renderer();
        let render = |src: &str| r.render_inline("t", src, &ctx).unwrap();
        assert_eq!(render("{{ d|toml_str }}"), r#""a\"b""#);
        assert_eq!(render("{{ d|rust_str }}"), r#""a\"b""#);
        assert_eq!(render("{{ d|html }}"), "a&quot;b");
        assert_eq!(render("{{ d|js_str }}"), r#""a\"b""#);
        assert_eq!(render("{{ d|md }}"), "a\"b");
        assert_eq!(render("{{ d|rust_comment }}"), "a\"b");
    }

    #[test]
    fn a_filter_given_a_non_string_fails_instead_of_guessing() {
        let err = renderer()
            .render_inline("t", "{{ 3|toml_str }}", &context! {})
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidOperation, "{err}");
    }

    #[test]
    fn binary_templates_give_a_clear_error() {
        let err = renderer().check_syntax("binary.bin").unwrap_err();
        assert!(describe(&err).contains("not UTF-8"), "{}", describe(&err));
    }
}

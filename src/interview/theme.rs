//! dialoguer's colourful theme with one change: the focused row of a checklist carries a
//! marker, not only a colour, so it stays visible with `NO_COLOR` and on monochrome
//! terminals. Everything else is the colourful theme's own formatting.

use std::fmt;

use dialoguer::theme::{ColorfulTheme, Theme as DialoguerTheme};

#[derive(Default)]
pub struct Theme {
    colorful: ColorfulTheme,
}

impl DialoguerTheme for Theme {
    fn format_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        self.colorful.format_prompt(f, prompt)
    }

    fn format_error(&self, f: &mut dyn fmt::Write, err: &str) -> fmt::Result {
        self.colorful.format_error(f, err)
    }

    fn format_confirm_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        default: Option<bool>,
    ) -> fmt::Result {
        self.colorful.format_confirm_prompt(f, prompt, default)
    }

    fn format_confirm_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        selection: Option<bool>,
    ) -> fmt::Result {
        self.colorful
            .format_confirm_prompt_selection(f, prompt, selection)
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        default: Option<&str>,
    ) -> fmt::Result {
        self.colorful.format_input_prompt(f, prompt, default)
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> fmt::Result {
        self.colorful.format_input_prompt_selection(f, prompt, sel)
    }

    fn format_select_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        self.colorful.format_select_prompt(f, prompt)
    }

    fn format_select_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> fmt::Result {
        self.colorful.format_select_prompt_selection(f, prompt, sel)
    }

    fn format_multi_select_prompt(&self, f: &mut dyn fmt::Write, prompt: &str) -> fmt::Result {
        self.colorful.format_multi_select_prompt(f, prompt)
    }

    fn format_multi_select_prompt_selection(
        &self,
        f: &mut dyn fmt::Write,
        prompt: &str,
        selections: &[&str],
    ) -> fmt::Result {
        self.colorful
            .format_multi_select_prompt_selection(f, prompt, selections)
    }

    fn format_select_prompt_item(
        &self,
        f: &mut dyn fmt::Write,
        text: &str,
        active: bool,
    ) -> fmt::Result {
        self.colorful.format_select_prompt_item(f, text, active)
    }

    fn format_multi_select_prompt_item(
        &self,
        f: &mut dyn fmt::Write,
        text: &str,
        checked: bool,
        active: bool,
    ) -> fmt::Result {
        // The select's own focus marker, then the colourful theme's checkbox and colours.
        let marker = if active {
            &self.colorful.active_item_prefix
        } else {
            &self.colorful.inactive_item_prefix
        };
        write!(f, "{marker} ")?;
        self.colorful
            .format_multi_select_prompt_item(f, text, checked, active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_focused_checklist_row_is_marked_without_colour() {
        console::set_colors_enabled_stderr(false);
        console::set_colors_enabled(false);
        let theme = Theme::default();
        let row = |active| {
            let mut out = String::new();
            theme
                .format_multi_select_prompt_item(&mut out, "mobile", false, active)
                .unwrap();
            out
        };
        let (focused, other) = (row(true), row(false));
        assert_ne!(focused, other);
        assert!(focused.starts_with('❯'), "{focused:?}");
        assert!(!other.contains('❯'), "{other:?}");
    }
}

//! Built-in answer sets, embedded in the binary so `--preset` works without any file.

use super::file;
use super::partial::PartialAnswers;

/// Preset names, in the order `--help` lists them.
pub const NAMES: &[&str] = &[
    "chat",
    "game",
    "collaboration",
    "news-feed",
    "notifications",
    "status-updates",
    "stock-ticker",
    "dashboard",
    "legacy-mvp",
];

fn text(name: &str) -> Option<&'static str> {
    Some(match name {
        "chat" => include_str!("presets/chat.toml"),
        "game" => include_str!("presets/game.toml"),
        "collaboration" => include_str!("presets/collaboration.toml"),
        "news-feed" => include_str!("presets/news-feed.toml"),
        "notifications" => include_str!("presets/notifications.toml"),
        "status-updates" => include_str!("presets/status-updates.toml"),
        "stock-ticker" => include_str!("presets/stock-ticker.toml"),
        "dashboard" => include_str!("presets/dashboard.toml"),
        "legacy-mvp" => include_str!("presets/legacy-mvp.toml"),
        _ => return None,
    })
}

/// The preset's answers; `None` for a name not in [`NAMES`] (clap rejects those first).
pub fn load(name: &str) -> Option<PartialAnswers> {
    let text = text(name)?;
    // Presets are tested below to parse; a failure here is a bug in rtgen, not in the input.
    Some(file::parse(text, &format!("preset {name}")).expect("built-in presets are valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_complete_and_valid() {
        for name in NAMES {
            let answers = load(name).unwrap().validate();
            assert!(answers.is_ok(), "preset {name}: {answers:?}");
        }
        assert!(load("nope").is_none());
    }
}

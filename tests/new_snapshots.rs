//! Snapshots of what `rtgen new` writes for every strategy x fan-out, so that every
//! template change is reviewed as a diff. One snapshot per output path holds each
//! distinct version of that file with the combinations that produce it: a change to
//! a shared template shows up once, not eight times.
//!
//! After a deliberate change: `cargo insta review`, or
//! `INSTA_UPDATE=always cargo test --test new_snapshots` and read the git diff.

use std::collections::BTreeMap;

use rtgen::advisor;
use rtgen::answers::file;
use rtgen::generate::{self, FANOUTS, ProjectName, STRATEGIES, Templates};

/// Realistic answers (what `--preset news-feed` gives) with the combination pinned; the
/// Redis combinations give the load instead of `servers`, so the sizing is snapshotted too.
fn answers_text(strategy: &str, fanout: &str) -> String {
    let scale = if fanout == "redis" {
        "connections = 200_000\nmessages_per_second = 100\nsubscribers_per_message = 1_000"
    } else {
        "servers = 1"
    };
    format!(
        r#"
name = "live-scores"
description = "Live match scores"

[traffic]
direction = "server-to-client"
use_case = "news-feed"
freshness = "seconds"

[scale]
{scale}

[generate]
strategy = "{strategy}"
fanout = "{fanout}"
"#
    )
}

/// path -> each distinct contents with the combinations producing it, in the
/// order the combinations are generated (stable, unlike ordering by contents).
type Variants = BTreeMap<String, Vec<(Vec<u8>, Vec<String>)>>;

fn generate_all() -> (Variants, BTreeMap<String, Vec<String>>) {
    let templates = Templates::load(generate::embedded()).unwrap_or_else(|e| panic!("{e}"));
    let name = ProjectName::parse("live-scores").unwrap();
    let mut variants = Variants::new();
    let mut file_sets = BTreeMap::new();
    for strategy in STRATEGIES {
        for fanout in FANOUTS {
            let combo = format!("{strategy}/{fanout}");
            let answers = file::parse(
                &answers_text(&strategy.to_string(), &fanout.to_string()),
                "snapshot",
            )
            .and_then(|partial| partial.validate())
            .unwrap_or_else(|e| panic!("{combo}: {e}"));
            let rec = advisor::advise(&answers).unwrap_or_else(|e| panic!("{combo}: {e:?}"));
            let plan = generate::plan(&templates, &name, &answers, &rec)
                .unwrap_or_else(|e| panic!("{combo}: {e}"));
            file_sets.insert(
                combo.clone(),
                plan.files.iter().map(|f| f.path.clone()).collect(),
            );
            for mut file in plan.files {
                if file.path == "rtgen.toml" {
                    file.contents = redact_fingerprint(&file.contents);
                }
                let versions = variants.entry(file.path).or_default();
                match versions.iter_mut().find(|(c, _)| *c == file.contents) {
                    Some((_, combos)) => combos.push(combo.clone()),
                    None => versions.push((file.contents, vec![combo.clone()])),
                }
            }
        }
    }
    (variants, file_sets)
}

/// rtgen.toml's `templates` fingerprint changes with every template; the snapshots of
/// the templates themselves show those changes.
fn redact_fingerprint(contents: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(contents.to_vec()).expect("rtgen.toml is UTF-8");
    let fingerprint = rtgen::generate::templates_fingerprint();
    assert!(
        text.contains(&format!("templates = \"{fingerprint}\"")),
        "{text}"
    );
    text.replace(&fingerprint, "[fingerprint]").into_bytes()
}

fn show(contents: &[u8]) -> String {
    match std::str::from_utf8(contents) {
        Ok(text) => text.to_owned(),
        Err(_) => format!("<binary, {} bytes>\n", contents.len()),
    }
}

#[test]
fn generated_files() {
    let (variants, file_sets) = generate_all();
    let mut sets = String::new();
    for (combo, paths) in &file_sets {
        // The development secret is written beside the plan, never as part of it.
        assert!(
            !paths.iter().any(|path| path == ".env"),
            "{combo}: .env must not be a planned file"
        );
        sets.push_str(&format!("{combo}:\n"));
        for path in paths {
            sets.push_str(&format!("  {path}\n"));
        }
    }
    insta::assert_snapshot!("file_sets", sets);

    for (path, versions) in &variants {
        let mut text = String::new();
        for (contents, combos) in versions {
            text.push_str(&format!("======== {} ========\n", combos.join(", ")));
            text.push_str(&show(contents));
        }
        let name = format!("file@{}", path.replace('/', "__"));
        insta::assert_snapshot!(name, text);
    }
}

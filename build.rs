// include_dir! embeds templates/ at compile time but cannot tell cargo about
// files added later; without this, a new template is silently missing from
// the binary until something else triggers a rebuild.
fn main() {
    println!("cargo::rerun-if-changed=templates");
}

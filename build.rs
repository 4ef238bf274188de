//! Embeds every `rules/<product>/<id>.toml` into the binary.
//!
//! std only (no `include_dir`): cargo re-runs this when anything under `rules/` changes, so a
//! new rule file is always picked up, which `include_dir` does not guarantee.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo::rerun-if-changed=rules");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut entries = Vec::new();
    collect(&root, &root, &mut entries);
    entries.sort();
    let mut out =
        String::from("/// (path relative to rules/, file text) for every built-in rule.\n");
    out.push_str("pub(crate) const EMBEDDED_RULES: &[(&str, &str)] = &[\n");
    for rel in &entries {
        let abs = root.join(rel);
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("embedded_rules.rs");
    fs::write(dest, out).unwrap();
}

fn collect(root: &Path, dir: &Path, entries: &mut Vec<String>) {
    let Ok(read) = fs::read_dir(dir) else { return };
    for entry in read.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, entries);
        } else if path.extension().is_some_and(|e| e == "toml") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            entries.push(rel);
        }
    }
}

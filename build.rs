//! Embeds every `rules/<product>/<id>.toml` into the binary, and records the commit built.
//!
//! std only (no `include_dir`): cargo re-runs this when anything under `rules/` changes, so a
//! new rule file is always picked up, which `include_dir` does not guarantee.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    println!("cargo::rerun-if-changed=rules");
    commit();
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

/// `RIPCORD_COMMIT` for `--version`: the commit built, from git when the source is a clone,
/// else `RIPCORD_COMMIT` from the environment (a source tarball's packager), else `unknown`.
fn commit() {
    println!("cargo::rerun-if-env-changed=RIPCORD_COMMIT");
    let git_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".git");
    // Only paths that exist: cargo reruns a build script whose watched path is missing on
    // every build.
    for watched in ["HEAD", "refs", "packed-refs"] {
        let path = git_dir.join(watched);
        if path.exists() {
            println!("cargo::rerun-if-changed={}", path.display());
        }
    }
    let from_git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let commit = from_git
        .or_else(|| env::var("RIPCORD_COMMIT").ok())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo::rustc-env=RIPCORD_COMMIT={commit}");
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

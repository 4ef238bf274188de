//! The layers of `src/` (DESIGN §6, `lib.rs`), enforced: a module imports only modules of a
//! lower layer or of its own folder, so no import cycle can form between the folders, and
//! products never import each other. Read from the source (`crate::…` paths, `use crate::{…}`
//! trees), tests excepted; a failure names the file, the line and the import.

use std::path::{Path, PathBuf};

/// The folders of `src/`, bottom first. Same-rank folders never import each other.
const LAYERS: &[(&str, u8)] = &[
    ("base", 0),
    ("model", 1),
    ("collect", 2),
    ("judge", 2),
    ("product", 3),
    ("output", 4),
    ("cli", 5),
    ("run", 6),
    ("fleet", 7),
    ("app", 8),
];

/// At most this many files directly in `src/` besides `main.rs` and `lib.rs`.
const ROOT_FILES_ALLOWED: usize = 6;

fn rank(top: &str) -> Option<u8> {
    LAYERS.iter().find(|(t, _)| *t == top).map(|(_, r)| *r)
}

fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The source without its unit tests (`#[cfg(test)] mod tests { … }`, last in a file).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |i| &text[..i])
}

/// Every `crate::…` import of `text`: (line, the first segment, the path as written).
fn imports(text: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            // `ripcord_crate::`, `$crate::` are not ours.
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a::x, b, c::{y, z}};` may span lines: read to its end.
                let start = text.lines().take(n).map(|l| l.len() + 1).sum::<usize>()
                    + (line.len() - group.len());
                for top in group_tops(&text[start..]) {
                    found.push((n + 1, top.clone(), format!("crate::{{{top}…}}")));
                }
                break;
            }
            let segment: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !segment.is_empty() {
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                found.push((n + 1, segment, format!("crate::{path}")));
            }
        }
    }
    found
}

/// The first segments of the items of a `{…}` use tree (its text starts after the `{`).
fn group_tops(text: &str) -> Vec<String> {
    let mut tops = Vec::new();
    let mut depth = 0;
    let mut at_item = true;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_item = true,
            c if at_item && depth == 0 && (c.is_ascii_lowercase() || c == '_') => {
                let segment: String = text[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if segment != "self" {
                    tops.push(segment);
                }
                at_item = false;
            }
            c if !c.is_whitespace() => at_item = false,
            _ => {}
        }
    }
    tops
}

/// What breaks the layering in the tree at `src`: one line per offending import.
fn offences(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(src).expect("under src");
        let mut parts = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let first = parts.next().unwrap_or_default();
        let second = parts.next();
        let (top, own_rank) = match (first.as_str(), &second) {
            ("main.rs" | "lib.rs", None) => continue,
            (name, None) => {
                found.push(format!(
                    "{}: a file directly in src/ outside the layers",
                    relative.display()
                ));
                (
                    name.trim_end_matches(".rs").to_string(),
                    rank(name.trim_end_matches(".rs")),
                )
            }
            (folder, Some(_)) => (folder.to_string(), rank(folder)),
        };
        let Some(own_rank) = own_rank else {
            found.push(format!(
                "{}: folder {top} is in no layer",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("source");
        let text = without_tests(&text);
        for (line, dep, path) in imports(text) {
            if dep == top {
                continue;
            }
            match rank(&dep) {
                Some(r) if r < own_rank => {}
                Some(r) => found.push(format!(
                    "{}:{line}: {top} (layer {own_rank}) imports {path} (layer {r}): only lower layers or its own folder",
                    relative.display()
                )),
                None => {}
            }
        }
        // Products never import each other.
        if top == "product"
            && let Some(product) = second.as_deref().filter(|s| !s.ends_with(".rs"))
        {
            for other in ["elastic", "ghes"].iter().filter(|p| **p != product) {
                for (n, l) in text.lines().enumerate() {
                    if l.contains(&format!("product::{other}"))
                        || l.contains(&format!("super::{other}"))
                    {
                        found.push(format!(
                            "{}:{}: product {product} imports product {other}",
                            relative.display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    let root_files = files
        .iter()
        .filter(|f| f.parent() == Some(src))
        .filter(|f| !f.ends_with("main.rs") && !f.ends_with("lib.rs"))
        .count();
    if root_files > ROOT_FILES_ALLOWED {
        found.push(format!(
            "{root_files} files directly in src/ (at most {ROOT_FILES_ALLOWED})"
        ));
    }
    found
}

#[test]
fn every_import_goes_down_a_layer_or_stays_in_its_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = offences(&src);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

/// The test can fail: a back-import planted in a copy of the tree is named with its line.
#[test]
fn a_planted_back_import_is_named() {
    let copy = tempfile::tempdir().expect("tmp");
    let base = copy.path().join("base");
    let model = copy.path().join("model");
    std::fs::create_dir_all(&base).expect("mkdir");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(
        base.join("text.rs"),
        "//! t\n\nuse crate::model::report::v1::Report;\n",
    )
    .expect("write");
    std::fs::write(
        model.join("plan.rs"),
        "use crate::{\n    base::text,\n    judge::engine::Finding,\n};\n",
    )
    .expect("write");
    let found = offences(copy.path());
    assert!(
        found.iter().any(|f| f.starts_with(
            "base/text.rs:3: base (layer 0) imports crate::model::report::v1::Report"
        )),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("model/plan.rs:1: model (layer 1) imports crate::{judge…}")),
        "{found:#?}"
    );
    assert_eq!(found.len(), 2, "{found:#?}");
}

/// The contracts, the collectors, the judges and the renderers know no CLI library: their
/// enums are plain (`base::named::Named`), and the CLI maps them (`cli/values.rs`). The one
/// exception is the diagnostic that shows clap's own refusal of a command line.
#[test]
fn below_the_cli_only_products_know_clap() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let clap_free = matches!(
            top.as_deref(),
            Some("base" | "model" | "collect" | "judge" | "output")
        );
        if !clap_free || relative.ends_with("output/diagnostics.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("source");
        for (n, line) in without_tests(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("clap::") || code.contains("use clap") {
                found.push(format!("{}:{}: {}", relative.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "clap below the CLI:\n{}",
        found.join("\n")
    );
}

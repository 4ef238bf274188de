//! Loading rule files: TOML → raw rule → validated `Rule`, with miette diagnostics that point
//! at the file, line and column of the mistake (a TOML syntax error, an unknown key, a CEL
//! parse error inside a multi-line string, a reference to a fact that does not exist).
//!
//! Every file is checked and every problem reported at once, so a rule author fixes them in
//! one pass.

use super::expr::{BUILTIN_FUNCTIONS, Expr};
use super::{Rule, RuleDocs, RuleSet, Severity, functions};
use miette::{NamedSource, SourceSpan};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use toml::Spanned;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// The variables a rule expression may use.
pub const ROOTS: &[&str] = &[
    "es", "kibana", "ghes", "upgrade", "derived", "params", "mode",
];

/// The fact groups a rule may `require`.
pub const GROUPS: &[&str] = &[
    "es.cluster",
    "es.nodes",
    "es.health",
    "es.repositories",
    "es.snapshots",
    "es.kibana_indices",
    "es.features",
    "es.system_features",
    "es.deprecations",
    "kibana.status",
    "upgrade.from",
    "upgrade.to",
    "upgrade.started_at",
    "upgrade.kibana_version",
    "upgrade.snapshot_cutoff",
    "ghes.versions",
    "ghes.topology",
    "ghes.replication",
    "ghes.maintenance",
    "ghes.system_requirements",
];

/// The modes a rule may apply to.
pub const MODES: &[&str] = &["preflight", "rollback"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    title: String,
    product: Spanned<String>,
    modes: Spanned<Vec<String>>,
    severity: Spanned<String>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    when: Option<Spanned<String>>,
    skip_reason: Option<String>,
    expr: Spanned<String>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    evidence: toml::Table,
    message: RawMessage,
    docs: RuleDocs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    pass: String,
    fail: String,
}

/// One problem in one rule file.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{path}:{line}:{column}: {message}")]
#[diagnostic(code(ripcord::rules::invalid))]
pub struct RuleFileError {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
}

/// Every problem found while loading rules.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{} invalid rule file problem(s)", problems.len())]
#[diagnostic(
    code(ripcord::rules::load),
    help("see rules/README.md for the rule file format")
)]
pub struct LoadError {
    #[related]
    pub problems: Vec<RuleFileError>,
}

/// Schemas of the inputs, per product.
pub type Schemas = BTreeMap<String, Schema>;

/// Loads the built-in rules, then `extra_dir`'s (same id replaces the built-in one).
pub fn load(extra_dir: Option<&Path>, schema: &Schemas) -> Result<RuleSet, LoadError> {
    let mut problems = Vec::new();
    let mut by_id: BTreeMap<String, Rule> = BTreeMap::new();
    for (rel, text) in embedded::EMBEDDED_RULES {
        match parse_rule(&format!("rules/{rel}"), text, schema, "built-in") {
            Ok(rule) => {
                by_id.insert(rule.id.clone(), rule);
            }
            Err(p) => problems.extend(p),
        }
    }
    if let Some(dir) = extra_dir {
        for path in rule_files(dir, &mut problems) {
            let shown = path.display().to_string();
            match std::fs::read_to_string(&path) {
                Ok(text) => match parse_rule(&shown, &text, schema, &shown) {
                    Ok(rule) => {
                        by_id.insert(rule.id.clone(), rule);
                    }
                    Err(p) => problems.extend(p),
                },
                Err(e) => problems.push(problem(
                    &shown,
                    "",
                    0..0,
                    format!("cannot read: {e}"),
                    "",
                    None,
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(RuleSet {
            rules: by_id.into_values().collect(),
        })
    } else {
        Err(LoadError { problems })
    }
}

fn rule_files(dir: &Path, problems: &mut Vec<RuleFileError>) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        match std::fs::read_dir(&d) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "toml") {
                        out.push(p);
                    }
                }
            }
            Err(e) => problems.push(problem(
                &d.display().to_string(),
                "",
                0..0,
                format!("cannot read rules directory: {e}"),
                "",
                None,
            )),
        }
    }
    out.sort();
    out
}

/// The member paths rule expressions may use, from a fully populated sample of the inputs.
#[derive(Debug, Default)]
pub struct Schema {
    /// Dotted paths of object members; below a list, scalar or null anything goes.
    objects: BTreeMap<String, BTreeSet<String>>,
}

impl Schema {
    /// Builds the schema from sample variables (every optional part present).
    pub fn from_sample(vars: &BTreeMap<String, serde_json::Value>) -> Self {
        let mut schema = Self::default();
        for (name, value) in vars {
            schema.add(name, value);
        }
        schema
    }

    fn add(&mut self, path: &str, value: &serde_json::Value) {
        if let serde_json::Value::Object(map) = value {
            let members = self.objects.entry(path.to_string()).or_default();
            members.extend(map.keys().cloned());
            for (k, v) in map {
                self.add(&format!("{path}.{k}"), v);
            }
        }
    }

    /// The first segment of `path` that does not exist, with the members that do.
    pub fn check(&self, path: &str) -> Result<(), (String, Vec<String>)> {
        let mut parts = path.split('.');
        let mut current = parts.next().unwrap_or_default().to_string();
        for part in parts {
            let Some(members) = self.objects.get(&current) else {
                return Ok(());
            };
            if !members.contains(part) {
                return Err((
                    format!("{current}.{part}"),
                    members.iter().cloned().collect(),
                ));
            }
            current = format!("{current}.{part}");
        }
        Ok(())
    }

    /// Adds a rule's params as `params.<name>` members.
    fn with_params(&self, params: &BTreeMap<String, serde_json::Value>) -> Self {
        let mut objects = self.objects.clone();
        objects.insert("params".into(), params.keys().cloned().collect());
        Self { objects }
    }
}

/// Parses and validates one rule file.
pub fn parse_rule(
    path: &str,
    text: &str,
    schemas: &Schemas,
    origin: &str,
) -> Result<Rule, Vec<RuleFileError>> {
    let raw: RawRule = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        vec![problem(
            path,
            text,
            span,
            e.message().trim().to_string(),
            "here",
            None,
        )]
    })?;
    let mut problems = Vec::new();
    let stem = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if raw.id.get_ref() != stem {
        problems.push(problem(
            path,
            text,
            raw.id.span(),
            format!(
                "id {:?} must equal the file name {stem:?}",
                raw.id.get_ref()
            ),
            "this id",
            None,
        ));
    }
    if let Some(parent) = Path::new(path)
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
        && origin == "built-in"
        && parent != raw.product.get_ref()
    {
        problems.push(problem(
            path,
            text,
            raw.product.span(),
            format!(
                "product {:?} must equal the folder {parent:?}",
                raw.product.get_ref()
            ),
            "this product",
            None,
        ));
    }
    let severity = match raw.severity.get_ref().as_str() {
        "blocker" => Severity::Blocker,
        "warning" => Severity::Warning,
        "info" => Severity::Info,
        other => {
            problems.push(problem(
                path,
                text,
                raw.severity.span(),
                format!("unknown severity {other:?}"),
                "here",
                Some("one of: blocker, warning, info".into()),
            ));
            Severity::Info
        }
    };
    for m in raw.modes.get_ref() {
        if !MODES.contains(&m.as_str()) {
            problems.push(problem(
                path,
                text,
                raw.modes.span(),
                format!("unknown mode {m:?}"),
                "here",
                Some("modes are: preflight, rollback".into()),
            ));
        }
    }
    for r in &raw.requires {
        if !GROUPS.contains(&r.get_ref().as_str()) {
            problems.push(problem(
                path,
                text,
                r.span(),
                format!("unknown fact group {:?}", r.get_ref()),
                "here",
                Some(format!("known groups: {}", GROUPS.join(", "))),
            ));
        }
    }
    let params: BTreeMap<String, serde_json::Value> = raw
        .params
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    let Some(product_schema) = schemas.get(raw.product.get_ref()) else {
        let known: Vec<&str> = schemas.keys().map(String::as_str).collect();
        problems.push(problem(
            path,
            text,
            raw.product.span(),
            format!("unknown product {:?}", raw.product.get_ref()),
            "here",
            Some(format!("products: {}", known.join(", "))),
        ));
        return Err(problems);
    };
    let schema = product_schema.with_params(&params);
    let expr = compile_checked(path, text, &raw.expr, "expr", &schema, &mut problems);
    let when = raw
        .when
        .as_ref()
        .and_then(|w| compile_checked(path, text, w, "when", &schema, &mut problems));
    let mut evidence = Vec::new();
    for (key, value) in &raw.evidence {
        match value.as_str() {
            Some(src) => {
                // Evidence values are plain strings inside a table; find their span by text.
                let span = find_span(text, src);
                let spanned = Spanned::new(span, src.to_string());
                if let Some(e) = compile_checked(
                    path,
                    text,
                    &spanned,
                    &format!("evidence.{key}"),
                    &schema,
                    &mut problems,
                ) {
                    evidence.push((key.clone(), e));
                }
            }
            None => problems.push(problem(
                path,
                text,
                0..0,
                format!("evidence.{key} must be a CEL expression string"),
                "",
                None,
            )),
        }
    }
    for (which, template) in [("pass", &raw.message.pass), ("fail", &raw.message.fail)] {
        for placeholder in placeholders(template) {
            let known =
                raw.evidence.contains_key(&placeholder) || params.contains_key(&placeholder);
            if !known {
                let span = find_span(text, template);
                problems.push(problem(path, text, span, format!("message.{which} uses {{{placeholder}}}, which is neither an evidence key nor a param"), "here", None));
            }
        }
    }
    match (expr, problems.is_empty()) {
        (Some(expr), true) => Ok(Rule {
            id: raw.id.into_inner(),
            title: raw.title,
            product: raw.product.into_inner(),
            modes: raw.modes.into_inner(),
            severity,
            requires: raw.requires.into_iter().map(Spanned::into_inner).collect(),
            when,
            skip_reason: raw.skip_reason,
            expr,
            params,
            evidence,
            message_pass: raw.message.pass,
            message_fail: raw.message.fail,
            docs: raw.docs,
            origin: origin.to_string(),
        }),
        _ => Err(problems),
    }
}

fn compile_checked(
    path: &str,
    text: &str,
    source: &Spanned<String>,
    what: &str,
    schema: &Schema,
    problems: &mut Vec<RuleFileError>,
) -> Option<Expr> {
    let content_start = content_start(text, source.span());
    match Expr::compile(source.get_ref()) {
        Ok(e) => {
            let refs = e.references();
            for v in &refs.variables {
                if !ROOTS.contains(&v.as_str()) {
                    let at = locate(text, content_start, source.get_ref(), v);
                    problems.push(problem(
                        path,
                        text,
                        at,
                        format!("{what} refers to unknown variable `{v}`"),
                        "unknown",
                        Some(format!("known roots: {}", ROOTS.join(", "))),
                    ));
                }
            }
            for p in &refs.paths {
                if let Err((bad, members)) = schema.check(p) {
                    let last = bad.rsplit('.').next().unwrap_or(&bad).to_string();
                    let at = locate(text, content_start, source.get_ref(), &last);
                    problems.push(problem(
                        path,
                        text,
                        at,
                        format!("{what} refers to unknown fact `{bad}`"),
                        "unknown fact",
                        Some(format!("known here: {}", members.join(", "))),
                    ));
                }
            }
            for f in &refs.functions {
                let known = BUILTIN_FUNCTIONS.contains(&f.as_str())
                    || functions::NAMES.contains(&f.as_str())
                    || f.starts_with('_')
                    || f.starts_with('@')
                    || f == "!_";
                if !known {
                    let at = locate(text, content_start, source.get_ref(), f);
                    problems.push(problem(
                        path,
                        text,
                        at,
                        format!("{what} calls unknown function `{f}`"),
                        "unknown function",
                        Some(format!(
                            "ripcord functions: {}",
                            functions::NAMES.join(", ")
                        )),
                    ));
                }
            }
            Some(e)
        }
        Err(err) => {
            let offset = offset_in(source.get_ref(), err.line, err.column);
            let at = content_start + offset;
            problems.push(problem(
                path,
                text,
                at..at + 1,
                format!("{what}: CEL syntax error: {}", err.message),
                "here",
                None,
            ));
            None
        }
    }
}

/// Byte offset where a TOML string's content starts (after `"`, `'`, `"""` or `'''`, and the
/// newline TOML trims right after a multi-line opener).
fn content_start(text: &str, span: std::ops::Range<usize>) -> usize {
    let lit = text.get(span.clone()).unwrap_or_default();
    let mut start = span.start;
    if lit.starts_with("\"\"\"") || lit.starts_with("'''") {
        start += 3;
        if text[start..].starts_with("\r\n") {
            start += 2;
        } else if text[start..].starts_with('\n') {
            start += 1;
        }
    } else if lit.starts_with('"') || lit.starts_with('\'') {
        start += 1;
    }
    start
}

/// Offset of 1-based (line, column) within `s`.
fn offset_in(s: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in s.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + column.saturating_sub(1).min(l.len());
        }
        offset += l.len();
    }
    s.len()
}

fn locate(text: &str, content_start: usize, source: &str, needle: &str) -> std::ops::Range<usize> {
    let _ = text;
    match source.find(needle) {
        Some(i) => content_start + i..content_start + i + needle.len(),
        None => content_start..content_start + 1,
    }
}

fn find_span(text: &str, needle: &str) -> std::ops::Range<usize> {
    match text.find(needle) {
        Some(i) => i.saturating_sub(1)..i + needle.len() + 1,
        None => 0..0,
    }
}

/// `{name}` placeholders of a message template.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.push(name.to_string());
                }
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    out
}

fn problem(
    path: &str,
    text: &str,
    span: std::ops::Range<usize>,
    message: String,
    label: &str,
    help: Option<String>,
) -> RuleFileError {
    let start = span.start.min(text.len());
    let (line, column) = line_col(text, start);
    let len = span
        .end
        .saturating_sub(span.start)
        .max(usize::from(!text.is_empty()))
        .min(text.len() - start);
    RuleFileError {
        path: path.to_string(),
        line,
        column,
        message,
        src: NamedSource::new(path, text.to_string()),
        span: SourceSpan::from((start, len)),
        label: label.to_string(),
        help,
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

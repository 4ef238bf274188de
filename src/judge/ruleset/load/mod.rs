//! Loading rule files: TOML → raw rule → validated `Rule`, with miette diagnostics that point
//! at the file, line and column of the mistake (a TOML syntax error, an unknown key, a CEL
//! parse error inside a multi-line string, a reference to a fact that does not exist).
//!
//! Every file is checked and every problem reported at once, so a rule author fixes them in
//! one pass.

use super::expr::{Expr, Problem};
use super::schema::InputSchema;
use super::{Rule, RuleDocs, RuleSet, Severity, functions};
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

mod expressions;
mod files;

pub(crate) use expressions::*;
use files::*;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// The modes a rule may apply to.
const MODES: &[&str] = &["preflight", "rollback"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    title: String,
    product: Spanned<String>,
    modes: Vec<Spanned<String>>,
    severity: Spanned<String>,
    #[serde(default)]
    requires: Vec<Spanned<String>>,
    when: Option<Spanned<String>>,
    skip_reason: Option<String>,
    expr: Spanned<String>,
    /// Asked only when `expr` passed: true → `unknown` (a pass ripcord cannot vouch for).
    unknown_when: Option<Spanned<String>>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    /// In file order (evidence is shown in that order), each value with its span so a
    /// diagnostic points at the value itself rather than at some earlier copy of its text.
    #[serde(default)]
    evidence: IndexMap<String, Spanned<toml::Value>>,
    message: RawMessage,
    docs: RuleDocs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessage {
    pass: Spanned<String>,
    fail: Spanned<String>,
    /// Required with `unknown_when`, refused without it.
    unknown: Option<Spanned<String>>,
}

/// One problem in one rule file.
pub(crate) type RuleFileError = crate::base::file_problem::FileProblem;

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

/// Each product's rule-input schema and fact groups, by product name.
pub(crate) type Schemas = BTreeMap<String, InputSchema>;

/// Loads the built-in rules, then `extra_dir`'s (same id replaces the built-in one; the same
/// id in two files of `extra_dir` is an error naming both).
pub(crate) fn load(extra_dir: Option<&Path>, schema: &Schemas) -> Result<RuleSet, LoadError> {
    let mut problems = Vec::new();
    let mut by_id: BTreeMap<String, Rule> = BTreeMap::new();
    for (rel, text) in embedded::EMBEDDED_RULES {
        match parse_rule(&format!("rules/{rel}"), text, schema, "built-in") {
            Ok((rule, _)) => {
                by_id.insert(rule.id.clone(), rule);
            }
            Err(p) => problems.extend(p),
        }
    }
    if let Some(dir) = extra_dir {
        // Which file each user rule id came from, to name both files of a duplicate.
        let mut user_ids: BTreeMap<String, String> = BTreeMap::new();
        for path in rule_files(dir, &mut problems) {
            let shown = path.display().to_string();
            let text = match read_rule_file(&path) {
                Ok(text) => text,
                Err(unreadable) => {
                    problems.push(unreadable.problem(&shown));
                    continue;
                }
            };
            match parse_rule(&shown, &text, schema, &shown) {
                Ok((rule, id_span)) => match user_ids.get(&rule.id) {
                    Some(first) => problems.push(problem(
                        &shown,
                        &text,
                        id_span,
                        format!("id {:?} is also the id of {first}", rule.id),
                        "the same id",
                        Some("each rule id may be used once under --rules: rename or remove one of the files".into()),
                    )),
                    None => {
                        user_ids.insert(rule.id.clone(), shown);
                        by_id.insert(rule.id.clone(), rule);
                    }
                },
                Err(p) => problems.extend(p),
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

/// Parses and validates one rule file: the rule, and where its id is written (to point at a
/// duplicate).
fn parse_rule(
    path: &str,
    text: &str,
    schemas: &Schemas,
    origin: &str,
) -> Result<(Rule, Range<usize>), Vec<RuleFileError>> {
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
    for m in &raw.modes {
        if !MODES.contains(&m.get_ref().as_str()) {
            problems.push(problem(
                path,
                text,
                m.span(),
                format!("unknown mode {:?}", m.get_ref()),
                "here",
                Some("modes are: preflight, rollback".into()),
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
    for r in &raw.requires {
        if !product_schema.groups.contains(&r.get_ref().as_str()) {
            problems.push(problem(
                path,
                text,
                r.span(),
                format!("unknown fact group {:?}", r.get_ref()),
                "here",
                Some(format!(
                    "{} groups: {}",
                    raw.product.get_ref(),
                    product_schema.groups.join(", ")
                )),
            ));
        }
    }
    let schema = product_schema.for_rule(&params);
    let roots = product_schema.roots();
    let schema = Checked {
        types: &schema,
        roots: &roots,
    };
    let expr = compile_checked(path, text, &raw.expr, "expr", &schema, &mut problems);
    let when = raw
        .when
        .as_ref()
        .and_then(|w| compile_checked(path, text, w, "when", &schema, &mut problems));
    let unknown_when = raw
        .unknown_when
        .as_ref()
        .and_then(|w| compile_checked(path, text, w, "unknown_when", &schema, &mut problems));
    match (&raw.unknown_when, &raw.message.unknown) {
        (Some(w), None) => problems.push(problem(
            path,
            text,
            w.span(),
            "unknown_when needs a message.unknown: what the finding says when it holds".into(),
            "here",
            None,
        )),
        (None, Some(m)) => problems.push(problem(
            path,
            text,
            m.span(),
            "message.unknown is only used with unknown_when".into(),
            "here",
            None,
        )),
        _ => {}
    }
    let mut evidence = Vec::new();
    for (key, value) in &raw.evidence {
        match value.get_ref().as_str() {
            Some(src) => {
                let spanned = Spanned::new(value.span(), src.to_string());
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
                value.span(),
                format!("evidence.{key} must be a CEL expression string"),
                "",
                None,
            )),
        }
    }
    let templates = [
        ("pass", Some(&raw.message.pass)),
        ("fail", Some(&raw.message.fail)),
    ]
    .into_iter()
    .chain(std::iter::once(("unknown", raw.message.unknown.as_ref())))
    .filter_map(|(which, t)| t.map(|t| (which, t)));
    for (which, template) in templates {
        for placeholder in placeholders(template.get_ref()) {
            let known =
                raw.evidence.contains_key(&placeholder) || params.contains_key(&placeholder);
            if !known {
                let span = placeholder_span(text, template.span(), &placeholder);
                problems.push(problem(path, text, span, format!("message.{which} uses {{{placeholder}}}, which is neither an evidence key nor a param"), "here", None));
            }
        }
    }
    let id_span = raw.id.span();
    match (expr, problems.is_empty()) {
        (Some(expr), true) => Ok((
            Rule {
                reads: when
                    .iter()
                    .chain(unknown_when.iter())
                    .chain(std::iter::once(&expr))
                    .chain(evidence.iter().map(|(_, e)| e))
                    .flat_map(Expr::paths)
                    .collect(),
                id: raw.id.into_inner(),
                title: raw.title,
                product: raw.product.into_inner(),
                modes: raw.modes.into_iter().map(Spanned::into_inner).collect(),
                severity,
                requires: raw.requires.into_iter().map(Spanned::into_inner).collect(),
                when,
                skip_reason: raw.skip_reason,
                expr,
                unknown_when,
                params,
                evidence,
                message_pass: raw.message.pass.into_inner(),
                message_fail: raw.message.fail.into_inner(),
                message_unknown: raw.message.unknown.map(Spanned::into_inner),
                docs: raw.docs,
                origin: origin.to_string(),
            },
            id_span,
        )),
        _ => Err(problems),
    }
}

/// One diagnostic. `span` may be anything (past the end, inside a character): it is clamped
/// to character boundaries and widened to one character, so this never panics.
fn problem(
    path: &str,
    text: &str,
    span: Range<usize>,
    message: String,
    label: &str,
    help: Option<String>,
) -> RuleFileError {
    RuleFileError::at(
        "ripcord::rules::invalid",
        path,
        text,
        span,
        message,
        label,
        help,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::file_problem::line_col;

    /// The span of `key`'s value as the TOML parser reports it.
    fn span_of(text: &str, key: &str) -> Range<usize> {
        let table: IndexMap<String, Spanned<toml::Value>> =
            toml::from_str(text).expect("test TOML parses");
        table[key].span()
    }

    /// Every byte offset, plus a few past the end.
    fn offsets(text: &str) -> Range<usize> {
        0..text.len() + 3
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a = \"«é»\"\nb = '日本😀z'\n";
        let z = text.find('z').expect("z");
        assert_eq!(line_col(text, z), (2, 9));
        let e = text.find('é').expect("é");
        assert_eq!(line_col(text, e), (1, 7));
        // Inside `é` (its second byte): the character's own column.
        assert_eq!(line_col(text, e + 1), (1, 7));
        assert_eq!(line_col(text, text.len() + 10), (3, 1));
    }

    #[test]
    fn line_col_and_problem_never_panic() {
        let text = "«x {nope}»\n😀\r\n日本";
        for start in offsets(text) {
            let _ = line_col(text, start);
            for end in offsets(text) {
                let p = problem("f.toml", text, start..end, "m".into(), "here", None);
                let (at, len) = (p.span.offset(), p.span.len());
                assert!(text.is_char_boundary(at) && text.is_char_boundary(at + len));
            }
        }
        let empty = problem(
            "f.toml",
            "",
            Range { start: 5, end: 1 },
            "m".into(),
            "",
            None,
        );
        assert_eq!((empty.line, empty.column, empty.span.len()), (1, 1, 0));
    }

    #[test]
    fn content_span_is_exact_for_literal_and_plain_basic_strings() {
        let text = "# é «»\na = 'é«x»'\nb = \"日本 x\"\nc = '''\nééé\n  😀 x'''\nd = \"\"\"\r\n«» x\"\"\"\n";
        for key in ["a", "b", "c", "d"] {
            let span = span_of(text, key);
            let content = match toml::from_str::<toml::Table>(text).expect("toml")[key].clone() {
                toml::Value::String(s) => s,
                other => panic!("{other:?}"),
            };
            let x = content.find('x').expect("x");
            let at = content_span(text, span.clone(), x..x + 1);
            assert_eq!(&text[at.clone()], "x", "{key}");
            let whole = content_span(text, span, 0..content.len());
            assert_eq!(&text[whole], content, "{key}");
        }
    }

    #[test]
    fn content_span_falls_back_to_the_content_start_after_escapes() {
        let text = "a = \"é\\t x\"\n";
        let span = span_of(text, "a");
        let at = content_span(text, span.clone(), 4..5);
        assert_eq!(at, span.start + 1..span.start + 1);
    }

    #[test]
    fn content_span_of_a_non_string_is_the_value() {
        let text = "a = [1, 2]\n";
        let span = span_of(text, "a");
        assert_eq!(content_span(text, span.clone(), 0..1), span);
    }

    #[test]
    fn content_span_never_panics_and_stays_on_boundaries() {
        let text = "a = '«é»'\nb = \"\"\"\n😀\"\"\"\n";
        for start in offsets(text) {
            for end in offsets(text) {
                for inner in [0..0, 1..2, Range { start: 2, end: 1 }, 0..100] {
                    let r = content_span(text, start..end, inner);
                    assert!(r.start <= r.end && r.end <= text.len(), "{start}..{end}");
                    assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
                }
            }
        }
    }

    #[test]
    fn content_start_skips_the_newline_after_a_multi_line_opener() {
        let text = "a = '''\r\nx'''\nb = \"\"\"\ny\"\"\"\nc = \"\"\nd = 1\n";
        assert_eq!(&text[content_start(text, span_of(text, "a"))..][..1], "x");
        assert_eq!(&text[content_start(text, span_of(text, "b"))..][..1], "y");
        let c = span_of(text, "c");
        assert_eq!(content_start(text, c.clone()), c.start + 1);
        let d = span_of(text, "d");
        assert_eq!(content_start(text, d.clone()), d.start);
    }

    /// What column the cel crate reports (through `Expr::compile`) after multi-byte text:
    /// characters, with `CEL_COLUMN_BIAS`. Fails if either the crate or `Expr` changes.
    #[test]
    fn cel_error_column_counts_characters() {
        for (source, line, column) in [
            ("'abc')", 1, 7),
            ("'ééé')", 1, 7),
            ("'😀😀' )", 1, 7),
            ("\n  'é' == 'x' &&\n  'ééé')", 3, 9),
        ] {
            let err = Expr::compile(source).expect_err(source);
            assert_eq!((err.line, err.column), (line, column), "{source}");
            let at = cel_error_offset(source, err.line, err.column);
            assert_eq!(source.get(at..at + 1), Some(")"), "{source}");
        }
    }

    #[test]
    fn cel_error_offset_clamps_any_position() {
        let source = "'é'\n日本";
        assert_eq!(cel_error_offset(source, 1, 100), 4);
        assert_eq!(cel_error_offset(source, 2, 100), source.len());
        assert_eq!(cel_error_offset(source, 9, 1), source.len());
        assert_eq!(cel_error_offset(source, 0, 0), source.len());
        assert_eq!(cel_error_offset(source, 2, 3), 5 + "日".len());
    }

    #[test]
    fn placeholder_span_searches_only_the_string() {
        let text = "# {nope}\nfail = \"«é» {nope}\"\n";
        let span = span_of(text, "fail");
        let at = placeholder_span(text, span.clone(), "nope");
        assert_eq!(&text[at.clone()], "{nope}");
        assert!(at.start > span.start);
        assert_eq!(placeholder_span(text, span.clone(), "other"), span);
    }
}

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

/// How many directory levels below `--rules DIR` are walked. Rules are organised a level or
/// two deep (`rules/<product>/`); a deeper tree is a mistake or a trap, reported rather than
/// walked.
const MAX_DIR_DEPTH: usize = 16;
/// How many directory entries (files, folders, links) the walk looks at in all. A rule set
/// holds tens of files; an attachment holding more than this is not one, and a bound keeps
/// the walk (and the parsing after it) short whatever it holds.
const MAX_DIR_ENTRIES: usize = 10_000;
/// The largest rule file read, in bytes. The longest built-in rule is a few KiB; anything
/// near this is not a rule, and a bound read keeps `/dev/zero` or a huge file from filling
/// memory.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

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

/// A problem with the rules directory itself (no file text to point into).
fn dir_problem(path: &Path, message: String) -> RuleFileError {
    problem(&path.display().to_string(), "", 0..0, message, "", None)
}

/// The `.toml` files under `dir`, sorted, walked without following symbolic links to
/// directories.
///
/// Links to directories are skipped rather than followed with a record of visited
/// (device, inode) pairs: that record needs platform-specific metadata, and a rules folder
/// from a ticket attachment has no business reaching outside itself (a link to `/` would
/// walk the whole disk even without a loop). A link to a file is kept: reading it checks
/// that its target is a regular file. The walk stops at [`MAX_DIR_DEPTH`] levels and
/// [`MAX_DIR_ENTRIES`] entries, each with a problem that says so.
fn rule_files(dir: &Path, problems: &mut Vec<RuleFileError>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen = 0usize;
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) => {
                problems.push(dir_problem(&d, format!("cannot read rules directory: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    problems.push(dir_problem(&d, format!("cannot read rules directory: {e}")));
                    break;
                }
            };
            seen += 1;
            if seen > MAX_DIR_ENTRIES {
                problems.push(dir_problem(
                    dir,
                    format!(
                        "more than {MAX_DIR_ENTRIES} files and folders under the rules directory: not a rule set (nothing past them was read)"
                    ),
                ));
                out.sort();
                return out;
            }
            let path = entry.path();
            // `DirEntry::file_type` does not follow symbolic links.
            match entry.file_type() {
                Ok(t) if t.is_dir() && depth < MAX_DIR_DEPTH => stack.push((path, depth + 1)),
                Ok(t) if t.is_dir() => problems.push(dir_problem(
                    &path,
                    format!(
                        "rules directory nested more than {MAX_DIR_DEPTH} levels deep: not read"
                    ),
                )),
                // Files, links to files and anything else named `.toml`: reading it tells
                // a regular file from a FIFO, a device or a link to a directory.
                Ok(_) if path.extension().is_some_and(|e| e == "toml") => out.push(path),
                Ok(_) => {}
                Err(e) => problems.push(dir_problem(&path, format!("cannot read: {e}"))),
            }
        }
    }
    out.sort();
    out
}

/// Why a rule file could not be read as text.
enum Unreadable {
    /// Not a regular file, too large, or an I/O error: the message.
    File(String),
    /// Not UTF-8: the text with invalid bytes replaced, and the offset of the first one.
    NotUtf8 { lossy: String, at: usize },
}

impl Unreadable {
    /// The problem for the file shown as `path`.
    fn problem(self, path: &str) -> RuleFileError {
        match self {
            Self::File(message) => problem(path, "", 0..0, message, "", None),
            Self::NotUtf8 { lossy, at } => problem(
                path,
                &lossy,
                at..at,
                "cannot read: not UTF-8 text".into(),
                "invalid byte here",
                Some("save the rule file as UTF-8".into()),
            ),
        }
    }
}

/// Reads one rule file, which must be a regular file of at most [`MAX_FILE_BYTES`] of UTF-8
/// (see [`crate::base::files`]: a FIFO or a device is refused before it is opened).
fn read_rule_file(path: &Path) -> Result<String, Unreadable> {
    use crate::base::files::ReadError;
    let bytes = crate::base::files::read_regular(path, MAX_FILE_BYTES).map_err(|e| {
        Unreadable::File(match e {
            ReadError::Io(e) => format!("cannot read: {e}"),
            ReadError::NotRegular(kind) => format!("cannot read: not a regular file ({kind})"),
            ReadError::TooLarge { .. } => format!(
                "cannot read: larger than {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        })
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Unreadable::NotUtf8 {
            lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            at,
        }
    })
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

/// What a rule's expressions are checked against.
struct Checked<'a> {
    types: &'a super::schema::RuleTypes<'a>,
    /// The variables of the rule's product, for the hint.
    roots: &'a [String],
}

/// Compiles one CEL string of the rule and checks what it refers to (variables, functions,
/// every member path, through list macros too); every problem is pushed with its position in
/// the file, from the CEL node's offset mapped through the parser's span of the string.
fn compile_checked(
    path: &str,
    text: &str,
    source: &Spanned<String>,
    what: &str,
    checked: &Checked<'_>,
    problems: &mut Vec<RuleFileError>,
) -> Option<Expr> {
    match Expr::compile(source.get_ref()) {
        Ok(e) => {
            for p in e.check(checked.types, &functions::names()) {
                let (at, message, label, help) = match p {
                    Problem::Variable { name, at } => (
                        at,
                        format!("{what} refers to unknown variable `{name}`"),
                        "unknown",
                        format!("known variables: {}", checked.roots.join(", ")),
                    ),
                    Problem::Member {
                        path: bad,
                        known,
                        at,
                    } => (
                        at,
                        format!("{what} refers to unknown fact `{bad}`"),
                        "unknown fact",
                        if known.is_empty() {
                            "it has no members".to_string()
                        } else {
                            format!("known here: {}", known.join(", "))
                        },
                    ),
                    Problem::Function { name, at } => (
                        at,
                        format!("{what} calls unknown function `{name}`"),
                        "unknown function",
                        format!("ripcord functions: {}", functions::names().join(", ")),
                    ),
                };
                problems.push(problem(
                    path,
                    text,
                    content_span(text, source.span(), at),
                    message,
                    label,
                    Some(help),
                ));
            }
            Some(e)
        }
        Err(err) => {
            let at = cel_error_offset(source.get_ref(), err.line, err.column);
            problems.push(problem(
                path,
                text,
                content_span(text, source.span(), at..at),
                if err.limit {
                    format!("{what}: {}", err.message)
                } else {
                    format!("{what}: CEL syntax error: {}", err.message)
                },
                "here",
                None,
            ));
            None
        }
    }
}

/// How far `ParseError::column` is past the 0-based character index of the error: cel 0.15
/// reports ANTLR's 0-based position plus one and `Expr::compile` adds one more. Pinned by the
/// `cel_error_column_counts_characters` test, which fails if either side changes.
const CEL_COLUMN_BIAS: usize = 2;

/// Byte offset in a CEL `source` of a parse error at 1-based `line` and `column`.
///
/// The column counts characters (ANTLR's lexer reads chars), so it cannot be added to a byte
/// offset. A position past its line or past the source is clamped, so any pair is safe.
/// (cel 0.15's few macro-expansion errors, e.g. "argument must be a simple name", count bytes
/// instead; after non-ASCII text on their line they land later on that line, never beyond.)
fn cel_error_offset(source: &str, line: usize, column: usize) -> usize {
    let index = column.saturating_sub(CEL_COLUMN_BIAS);
    let mut offset = 0;
    for (i, l) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let content = l.strip_suffix('\n').unwrap_or(l);
            let in_line = content
                .char_indices()
                .nth(index)
                .map_or(content.len(), |(b, _)| b);
            return offset + in_line;
        }
        offset += l.len();
    }
    source.len()
}

/// Where `{name}` is written in a message string, else the whole string.
///
/// Only the string's own raw text (its span from the parser) is searched, so the same text
/// elsewhere in the file (a comment, another field) cannot be picked by mistake.
fn placeholder_span(text: &str, literal_span: Range<usize>, name: &str) -> Range<usize> {
    let needle = format!("{{{name}}}");
    text.get(literal_span.clone())
        .and_then(|raw| raw.find(&needle))
        .map_or(literal_span.clone(), |i| {
            literal_span.start + i..literal_span.start + i + needle.len()
        })
}

/// The delimiters a TOML string value opens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// `"…"`: escapes allowed.
    Basic,
    /// `'…'`: content is the raw text.
    Literal,
    /// `"""…"""`: escapes and line-ending backslashes allowed.
    MultiBasic,
    /// `'''…'''`: content is the raw text.
    MultiLiteral,
}

impl Quote {
    /// The kind of string `raw` (a value's text from its first byte) starts, if any.
    fn of(raw: &str) -> Option<Self> {
        if raw.starts_with("\"\"\"") {
            Some(Self::MultiBasic)
        } else if raw.starts_with("'''") {
            Some(Self::MultiLiteral)
        } else if raw.starts_with('"') {
            Some(Self::Basic)
        } else if raw.starts_with('\'') {
            Some(Self::Literal)
        } else {
            None
        }
    }

    /// Bytes of the opening (and closing) delimiter.
    fn len(self) -> usize {
        match self {
            Self::Basic | Self::Literal => 1,
            Self::MultiBasic | Self::MultiLiteral => 3,
        }
    }

    /// Whether the content may differ from the raw text (escape sequences).
    fn has_escapes(self) -> bool {
        matches!(self, Self::Basic | Self::MultiBasic)
    }
}

/// Byte offset where a TOML string's content starts (after `"`, `'`, `"""` or `'''`, and the
/// newline TOML trims right after a multi-line opener). Not a string: the span's start.
fn content_start(text: &str, literal_span: Range<usize>) -> usize {
    let start = text.floor_char_boundary(literal_span.start);
    let rest = text.get(start..).unwrap_or_default();
    let Some(quote) = Quote::of(rest) else {
        return start;
    };
    let after = start + quote.len();
    if matches!(quote, Quote::MultiBasic | Quote::MultiLiteral) {
        let tail = text.get(after..).unwrap_or_default();
        if tail.starts_with("\r\n") {
            return after + 2;
        } else if tail.starts_with('\n') {
            return after + 1;
        }
    }
    after
}

/// Maps a byte range of a TOML string's deserialized content to a byte range in the file.
///
/// `literal_span` is the parser's span of the whole value, delimiters included. The mapping
/// is exact when the content is the raw text (`toml` keeps `\r\n` as written): literal
/// strings, and basic strings without escapes. A basic string with escapes maps to the empty
/// range at its content's start, since offsets after an escape would drift. A value that is
/// not a string maps to its whole span. The result always lies on character boundaries of
/// `text`, whatever the input, so it is safe to slice with and to hand to `problem`.
pub(crate) fn content_span(
    text: &str,
    literal_span: Range<usize>,
    inner: Range<usize>,
) -> Range<usize> {
    let lit_start = text.floor_char_boundary(literal_span.start);
    let lit_end = text.ceil_char_boundary(literal_span.end.max(lit_start));
    let Some(quote) = text.get(lit_start..).and_then(Quote::of) else {
        return lit_start..lit_end;
    };
    let start = content_start(text, lit_start..lit_end);
    let end = lit_end.saturating_sub(quote.len()).max(start);
    let raw = text.get(start..end).unwrap_or_default();
    if quote.has_escapes() && raw.contains('\\') {
        return start..start;
    }
    let from = raw.floor_char_boundary(inner.start);
    let to = raw.ceil_char_boundary(inner.end.max(inner.start));
    start + from..start + to
}

/// `{name}` placeholders of a message template.
pub(crate) fn placeholders(template: &str) -> Vec<String> {
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

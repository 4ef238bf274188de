//! The CEL strings of a rule file: compiled and checked against the product's input schema,
//! and every position CEL reports mapped back to the file's line and column (through TOML's
//! quoting); the `{placeholders}` of message templates.

use super::*;

/// What a rule's expressions are checked against.
pub(super) struct Checked<'a> {
    pub(super) types: &'a crate::judge::ruleset::schema::RuleTypes<'a>,
    /// The variables of the rule's product, for the hint.
    pub(super) roots: &'a [String],
}

/// Compiles one CEL string of the rule and checks what it refers to (variables, functions,
/// every member path, through list macros too); every problem is pushed with its position in
/// the file, from the CEL node's offset mapped through the parser's span of the string.
pub(super) fn compile_checked(
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
pub(super) const CEL_COLUMN_BIAS: usize = 2;

/// Byte offset in a CEL `source` of a parse error at 1-based `line` and `column`.
///
/// The column counts characters (ANTLR's lexer reads chars), so it cannot be added to a byte
/// offset. A position past its line or past the source is clamped, so any pair is safe.
/// (cel 0.15's few macro-expansion errors, e.g. "argument must be a simple name", count bytes
/// instead; after non-ASCII text on their line they land later on that line, never beyond.)
pub(super) fn cel_error_offset(source: &str, line: usize, column: usize) -> usize {
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
pub(super) fn placeholder_span(text: &str, literal_span: Range<usize>, name: &str) -> Range<usize> {
    let needle = format!("{{{name}}}");
    text.get(literal_span.clone())
        .and_then(|raw| raw.find(&needle))
        .map_or(literal_span.clone(), |i| {
            literal_span.start + i..literal_span.start + i + needle.len()
        })
}

/// The delimiters a TOML string value opens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quote {
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
    pub(super) fn of(raw: &str) -> Option<Self> {
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
    pub(super) fn len(self) -> usize {
        match self {
            Self::Basic | Self::Literal => 1,
            Self::MultiBasic | Self::MultiLiteral => 3,
        }
    }

    /// Whether the content may differ from the raw text (escape sequences).
    pub(super) fn has_escapes(self) -> bool {
        matches!(self, Self::Basic | Self::MultiBasic)
    }
}

/// Byte offset where a TOML string's content starts (after `"`, `'`, `"""` or `'''`, and the
/// newline TOML trims right after a multi-line opener). Not a string: the span's start.
pub(super) fn content_start(text: &str, literal_span: Range<usize>) -> usize {
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

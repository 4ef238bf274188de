//! One problem in an input file ripcord was given (a rule file, a waivers file, a fleet
//! inventory): exit 2, naming the file, the line and the column, with the file's text under it
//! (user info in URLs masked) and the span marked. One type for every such file: what differs
//! is the diagnostic code and the words.

use miette::{LabeledSpan, NamedSource, SourceSpan};
use std::ops::Range;

/// A problem at a place in a file.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct FileProblem {
    /// `ripcord::rules::invalid`, `ripcord::waivers::invalid`, `ripcord::fleet::inventory`.
    code: &'static str,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    src: NamedSource<String>,
    pub(crate) span: SourceSpan,
    label: String,
    pub(crate) help: Option<String>,
}

impl FileProblem {
    /// The problem `message` at `span` of `text` (the file `path`), labelled `label`.
    pub(crate) fn at(
        code: &'static str,
        path: &str,
        text: &str,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> Self {
        let (span, line, column) = locate(text, span);
        Self {
            code,
            path: path.to_string(),
            line,
            column,
            message,
            src: NamedSource::new(path, crate::base::secrets::snippet_safe(text)),
            span,
            label: label.to_string(),
            help,
        }
    }
}

impl miette::Diagnostic for FileProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            self.span,
        ))))
    }
}

/// Where `span` is in `text`, as a diagnostic shows it: clamped to the text and to character
/// boundaries, at least one character wide, with the 1-based line and column of its start.
pub(crate) fn locate(text: &str, span: Range<usize>) -> (SourceSpan, usize, usize) {
    let start = text.floor_char_boundary(span.start);
    let mut end = text.ceil_char_boundary(span.end.max(start));
    if end == start {
        end = text.ceil_char_boundary(start + 1);
    }
    let (line, column) = line_col(text, start);
    (SourceSpan::from((start, end - start)), line, column)
}

/// 1-based line and character column of a byte offset (clamped to the text, and back to the
/// start of the character it falls in), as an editor shows them.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text
        .get(..text.floor_char_boundary(offset))
        .unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

//! Reading and writing facts bundles (`ripcord.facts/v1`).
//!
//! A bad bundle is a miette diagnostic that names the file, the line and column, and the field
//! path (`elastic.snapshots[3].state`), so the person holding a ticket attachment knows exactly
//! what is wrong with it without reading our source.

use super::{Bundle, FACTS_SCHEMA};
use miette::{NamedSource, SourceSpan};
use std::path::Path;

/// Why a bundle could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BundleError {
    #[error("cannot read facts bundle {path}")]
    #[diagnostic(code(ripcord::bundle::read))]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidBundle>),
    #[error("facts bundle {path} has schema {found:?}, expected {FACTS_SCHEMA:?}")]
    #[diagnostic(code(ripcord::bundle::schema))]
    Schema { path: String, found: String },
    #[error("facts bundle {path} is for product {found:?}, not {expected:?}")]
    #[diagnostic(code(ripcord::bundle::product))]
    Product {
        path: String,
        found: String,
        expected: String,
    },
    #[error("cannot write facts bundle {path}")]
    #[diagnostic(code(ripcord::bundle::write))]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where and why a bundle does not parse (boxed: it carries the whole file for the snippet).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid facts bundle {path}: at `{field}`: {message}")]
#[diagnostic(
    code(ripcord::bundle::invalid),
    help("a bundle is written by `ripcord collect`; schema {FACTS_SCHEMA}")
)]
pub struct InvalidBundle {
    pub path: String,
    pub field: String,
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here (line {line}, column {column})")]
    span: SourceSpan,
    pub line: usize,
    pub column: usize,
}

/// Reads and validates a bundle for `product`.
pub fn read(path: &Path, product: &str) -> Result<Bundle, BundleError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| BundleError::Read {
        path: shown.clone(),
        source,
    })?;
    let bundle = parse(&text, &shown)?;
    if bundle.schema != FACTS_SCHEMA {
        return Err(BundleError::Schema {
            path: shown,
            found: bundle.schema,
        });
    }
    if bundle.product != product {
        return Err(BundleError::Product {
            path: shown,
            found: bundle.product,
            expected: product.to_string(),
        });
    }
    Ok(bundle)
}

/// Parses bundle text; `shown` names it in diagnostics.
pub fn parse(text: &str, shown: &str) -> Result<Bundle, BundleError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        let (line, column) = (inner.line().max(1), inner.column().max(1));
        let offset = offset_of(text, line, column);
        BundleError::Invalid(Box::new(InvalidBundle {
            path: shown.to_string(),
            field: if field.is_empty() || field == "." {
                "(document)".into()
            } else {
                field
            },
            message: strip_position(&inner.to_string()),
            src: NamedSource::new(shown, text.to_string()),
            span: SourceSpan::from((offset, 1usize.min(text.len().saturating_sub(offset)))),
            line,
            column,
        }))
    })
}

/// Writes a bundle as pretty JSON.
pub fn write(path: &Path, bundle: &Bundle) -> Result<(), BundleError> {
    let shown = path.display().to_string();
    let mut text = serde_json::to_string_pretty(bundle).unwrap_or_default();
    text.push('\n');
    std::fs::write(path, text).map_err(|source| BundleError::Write {
        path: shown,
        source,
    })
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len());
        }
        offset += l.len();
    }
    text.len().saturating_sub(1)
}

/// serde_json appends " at line L column C"; we show that in the label instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

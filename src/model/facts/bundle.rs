//! The facts bundle (`ripcord.facts/v1`): one envelope for every product, read and written.
//!
//! The envelope is product-neutral (schema, tool version, product, clock, failures, request
//! log); the product supplies its target, its operator facts and its facts, which sit under a
//! key named after the product (`"elastic": {…}`, `"ghes": {…}`), as v1 has always laid them
//! out. That key is why (de)serialisation is written by hand below: serde's derive cannot name
//! a field after a type parameter.
//!
//! A bad bundle is a miette diagnostic that names the file, the line and column, and the field
//! path (`elastic.snapshots[3].state`), so the person holding a ticket attachment knows exactly
//! what is wrong with it without reading our source.

use super::{CollectFailure, Connection, FACTS_SCHEMA, RequestRecord};
use super::{FactsSection, Shape};
use jiff::Timestamp;
use miette::{NamedSource, SourceSpan};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

/// One facts bundle: what was collected, what could not be, and every request made.
pub(crate) struct Bundle<P: Shape> {
    pub(crate) schema: String,
    pub(crate) tool_version: String,
    pub(crate) product: String,
    /// The one clock every age is computed from.
    pub(crate) collected_at: Timestamp,
    /// The endpoints that were asked (credentials are never part of a URL we keep).
    pub(crate) target: P::Target,
    /// How ripcord connected (absent in bundles of ripcord before 0.2, and in flags-only runs).
    pub(crate) connection: Option<Connection>,
    /// Facts only the operator knows; recorded here, overridden by flags at evaluation.
    pub(crate) operator: P::Operator,
    /// The product's collected facts, under the key named after the product.
    pub(crate) facts: P::Facts,
    /// What could not be collected, so rules can say `unknown` with the reason.
    pub(crate) failures: Vec<CollectFailure>,
    /// The audit trail of the read-only promise: every request, its method and status.
    pub(crate) requests: Vec<RequestRecord>,
}

impl<P: Shape> Bundle<P> {
    /// An empty bundle collected at `now`.
    pub(crate) fn new(now: Timestamp) -> Self {
        Self {
            schema: FACTS_SCHEMA.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            product: P::NAME.to_string(),
            collected_at: now,
            target: P::Target::default(),
            connection: None,
            operator: P::Operator::default(),
            facts: P::Facts::default(),
            failures: Vec::new(),
            requests: Vec::new(),
        }
    }
}

impl<P: Shape> Serialize for Bundle<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Bundle", 10)?;
        s.serialize_field("schema", &self.schema)?;
        s.serialize_field("tool_version", &self.tool_version)?;
        s.serialize_field("product", &self.product)?;
        s.serialize_field("collected_at", &self.collected_at)?;
        s.serialize_field("target", &self.target)?;
        match &self.connection {
            Some(c) => s.serialize_field("connection", c)?,
            None => s.skip_field("connection")?,
        }
        s.serialize_field("operator", &self.operator)?;
        if self.facts.is_absent() {
            s.skip_field(P::NAME)?;
        } else {
            s.serialize_field(P::NAME, &self.facts)?;
        }
        s.serialize_field("failures", &self.failures)?;
        s.serialize_field("requests", &self.requests)?;
        s.end()
    }
}

/// The envelope's own keys; anything else but the product's key is an unknown field.
const ENVELOPE: &[&str] = &[
    "schema",
    "tool_version",
    "product",
    "collected_at",
    "target",
    "connection",
    "operator",
    "failures",
    "requests",
];

/// Prefix of the error raised as soon as `product` names another product, so `read` can
/// report the mismatch plainly instead of the first unknown field that follows.
const PRODUCT_MISMATCH: &str = "bundle is for product ";

/// The error a streaming parse raises when a key whose shape depends on the product comes
/// before `product` (`jq -S` sorts keys; `collect` writes `product` first). `read` then reads
/// the file whole, learns the product, and parses again in any order.
const PRODUCT_NOT_YET: &str = "ripcord: `product` comes later";

impl<'de, P: Shape> Deserialize<'de> for Bundle<P> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de::DeserializeSeed::deserialize(BundleSeed::<P>::new(false), deserializer)
    }
}

struct BundleVisitor<P> {
    /// The caller checked `product` already (see [`PRODUCT_NOT_YET`]).
    product_known: bool,
    product: PhantomData<P>,
}

impl<'de, P: Shape> Visitor<'de> for BundleVisitor<P> {
    type Value = Bundle<P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a ripcord facts bundle for product {:?}", P::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Bundle<P>, A::Error> {
        let mut schema = None;
        let mut tool_version = None;
        let mut product: Option<String> = None;
        let mut collected_at = None;
        let mut target = None;
        let mut connection = None;
        let mut operator = None;
        let mut facts = None;
        let mut failures = None;
        let mut requests = None;
        while let Some(key) = map.next_key::<String>()? {
            let envelope = matches!(
                key.as_str(),
                "schema"
                    | "tool_version"
                    | "product"
                    | "collected_at"
                    | "connection"
                    | "failures"
                    | "requests"
            );
            if !envelope && product.is_none() && !self.product_known {
                return Err(de::Error::custom(PRODUCT_NOT_YET));
            }
            match key.as_str() {
                "schema" => set(&mut schema, &key, map.next_value()?)?,
                "tool_version" => set(&mut tool_version, &key, map.next_value()?)?,
                "product" => {
                    let found: String = map.next_value()?;
                    if found != P::NAME {
                        return Err(de::Error::custom(format!(
                            "{PRODUCT_MISMATCH}{found:?}, not {:?}",
                            P::NAME
                        )));
                    }
                    set(&mut product, &key, found)?;
                }
                "collected_at" => set(&mut collected_at, &key, map.next_value()?)?,
                "failures" => set(&mut failures, &key, map.next_value()?)?,
                "requests" => set(&mut requests, &key, map.next_value()?)?,
                "target" => set(&mut target, &key, map.next_value()?)?,
                "connection" => set(&mut connection, &key, map.next_value()?)?,
                "operator" => set(&mut operator, &key, map.next_value()?)?,
                k if k == P::NAME => set(&mut facts, &key, map.next_value()?)?,
                // Raised from the value so the error names the field's path.
                other => map.next_value_seed(Refuse::<P>(other.to_string(), PhantomData))?,
            }
        }
        Ok(Bundle {
            schema: schema.ok_or_else(|| de::Error::missing_field("schema"))?,
            tool_version: tool_version.ok_or_else(|| de::Error::missing_field("tool_version"))?,
            product: product.ok_or_else(|| de::Error::missing_field("product"))?,
            collected_at: collected_at.ok_or_else(|| de::Error::missing_field("collected_at"))?,
            target: target.ok_or_else(|| de::Error::missing_field("target"))?,
            connection,
            operator: operator.unwrap_or_default(),
            facts: facts.unwrap_or_default(),
            failures: failures.unwrap_or_default(),
            requests: requests.unwrap_or_default(),
        })
    }
}

fn unknown_field<P: Shape, E: de::Error>(key: &str) -> E {
    E::custom(format!(
        "unknown field `{key}`, expected one of {}, `{}`",
        ENVELOPE
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", "),
        P::NAME
    ))
}

/// Refuses the value of an unknown key, so the error is reported at that key's path.
struct Refuse<P>(String, PhantomData<P>);

impl<'de, P: Shape> de::DeserializeSeed<'de> for Refuse<P> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(unknown_field::<P, _>(&self.0))
    }
}

/// Stores a field, refusing a second occurrence (JSON allows it; a bundle never has one).
fn set<T, E: de::Error>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(format!("duplicate field `{key}`")));
    }
    *slot = Some(value);
    Ok(())
}

impl<P: Shape> schemars::JsonSchema for Bundle<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("{}Bundle", P::NAME).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut properties = serde_json::Map::new();
        let mut add = |name: &str, schema: schemars::Schema| {
            properties.insert(name.to_string(), schema.to_value());
        };
        add("schema", schemars::json_schema!({ "const": FACTS_SCHEMA }));
        add("tool_version", generator.subschema_for::<String>());
        add("product", schemars::json_schema!({ "const": P::NAME }));
        add("collected_at", generator.subschema_for::<Timestamp>());
        add("target", generator.subschema_for::<P::Target>());
        add("connection", generator.subschema_for::<Connection>());
        add("operator", generator.subschema_for::<P::Operator>());
        add(P::NAME, generator.subschema_for::<P::Facts>());
        add("failures", generator.subschema_for::<Vec<CollectFailure>>());
        add("requests", generator.subschema_for::<Vec<RequestRecord>>());
        schemars::json_schema!({
            "type": "object",
            "description": format!("A ripcord facts bundle of product {:?}.", P::NAME),
            "properties": properties,
            "required": ["schema", "tool_version", "product", "collected_at", "target"],
            "additionalProperties": false,
        })
    }
}

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
    #[error("facts bundle {path} {why}")]
    #[diagnostic(
        code(ripcord::bundle::refused),
        help(
            "a bundle is a regular JSON file written by `ripcord collect` (or `-` for standard input)"
        )
    )]
    Refused { path: String, why: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidBundle>),
    #[error("facts bundle {path} has schema {found:?}, expected {FACTS_SCHEMA:?}")]
    #[diagnostic(code(ripcord::bundle::schema))]
    Schema { path: String, found: String },
    #[error("facts bundle {path} {detail}")]
    #[diagnostic(
        code(ripcord::bundle::product),
        help("evaluate it with the command of its product")
    )]
    Product { path: String, detail: String },
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
    path: String,
    field: String,
    message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here (line {line}, column {column})")]
    span: SourceSpan,
    line: usize,
    column: usize,
}

/// Above this size a bundle is parsed as it is read rather than read whole first: slower per
/// byte, but the text of a 200,000-snapshot bundle (over 100 MB) is never in memory at once.
const STREAM_ABOVE_BYTES: u64 = 32 * 1024 * 1024;

/// Largest bundle read: a cluster with 270,000 snapshots writes about 125 MB.
pub(crate) const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// Reads and validates a bundle of product `P`.
///
/// Only a regular file of at most [`MAX_BUNDLE_BYTES`] is read, or standard input (`-` or
/// `/dev/stdin`, read up to the same limit): a FIFO named on the command line would block
/// forever and `/dev/zero` would never end. A large file is parsed as it is read (see
/// [`STREAM_ABOVE_BYTES`]); a smaller one, standard input and a bundle whose keys put `product`
/// after the facts are read whole first. Only a bundle that does not parse is parsed again,
/// tracking field paths, to show where.
pub(crate) fn read<P: Shape>(path: &Path) -> Result<Bundle<P>, BundleError> {
    read_above::<P>(path, STREAM_ABOVE_BYTES)
}

/// Whether `path` names standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-" || path == Path::new("/dev/stdin")
}

/// [`read`], streaming files larger than `stream_above` bytes.
fn read_above<P: Shape>(path: &Path, stream_above: u64) -> Result<Bundle<P>, BundleError> {
    use crate::base::files::{ReadError, open_regular};
    let shown = path.display().to_string();
    let read_error = |source| BundleError::Read {
        path: shown.clone(),
        source,
    };
    let refused = |e: ReadError| match e {
        ReadError::Io(source) => read_error(source),
        other => BundleError::Refused {
            path: shown.clone(),
            why: other.to_string(),
        },
    };
    let bundle = if is_stdin(path) {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin().lock(), MAX_BUNDLE_BYTES + 1),
            &mut bytes,
        )
        .map_err(read_error)?;
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(refused(ReadError::TooLarge {
                size: bytes.len() as u64,
                limit: MAX_BUNDLE_BYTES,
            }));
        }
        from_bytes::<P>(&bytes, &shown)?
    } else {
        let (file, size) = open_regular(path, MAX_BUNDLE_BYTES).map_err(refused)?;
        if size > stream_above {
            let reader = std::io::BufReader::with_capacity(1 << 20, file);
            match serde_json::from_reader::<_, Bundle<P>>(reader) {
                Ok(bundle) => bundle,
                Err(first) => {
                    let bytes = crate::base::files::read_regular(path, MAX_BUNDLE_BYTES)
                        .map_err(refused)?;
                    if !is_product_not_yet(&first) {
                        return Err(diagnose::<P>(&bytes, first, &shown, false));
                    }
                    in_any_order::<P>(&bytes, &shown)?
                }
            }
        } else {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(file, MAX_BUNDLE_BYTES + 1),
                &mut bytes,
            )
            .map_err(read_error)?;
            from_bytes::<P>(&bytes, &shown)?
        }
    };
    if bundle.schema != FACTS_SCHEMA {
        return Err(BundleError::Schema {
            path: shown,
            found: bundle.schema,
        });
    }
    Ok(bundle)
}

/// A bundle from bytes in memory (keys in any order).
fn from_bytes<P: Shape>(bytes: &[u8], shown: &str) -> Result<Bundle<P>, BundleError> {
    match serde_json::from_slice::<Bundle<P>>(bytes) {
        Ok(bundle) => Ok(bundle),
        Err(first) if is_product_not_yet(&first) => in_any_order::<P>(bytes, shown),
        Err(first) => Err(diagnose::<P>(bytes, first, shown, false)),
    }
}

fn is_product_not_yet(e: &serde_json::Error) -> bool {
    e.to_string().starts_with(PRODUCT_NOT_YET)
}

/// Parses a bundle whose `product` comes after keys that depend on it: `product` first (a
/// bundle of another product says so), then the rest in any order.
fn in_any_order<P: Shape>(bytes: &[u8], shown: &str) -> Result<Bundle<P>, BundleError> {
    /// Only the `product` key (the rest is skipped unread).
    #[derive(serde::Deserialize)]
    struct ProductKey {
        product: Option<String>,
    }
    if let Ok(ProductKey {
        product: Some(found),
    }) = serde_json::from_slice::<ProductKey>(bytes)
        && found != P::NAME
    {
        return Err(BundleError::Product {
            path: shown.to_string(),
            detail: format!("is for product {found:?}, not {:?}", P::NAME),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    de::DeserializeSeed::deserialize(BundleSeed::<P>::new(true), &mut *de)
        .and_then(|bundle| de.end().map(|()| bundle))
        .map_err(|first| diagnose::<P>(bytes, first, shown, true))
}

/// The diagnostic of a bundle that did not parse (`first` is why): parsed again, tracking
/// field paths, to name the field. Where the second parse does not fail the same way (the
/// file changed in between), the first error is shown as it is.
fn diagnose<P: Shape>(
    bytes: &[u8],
    first: serde_json::Error,
    shown: &str,
    product_known: bool,
) -> BundleError {
    let text = String::from_utf8_lossy(bytes);
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let tracked = de::DeserializeSeed::deserialize(
        BundleSeed::<P>::new(product_known),
        serde_path_to_error::Deserializer::new(&mut *de, &mut track),
    );
    match tracked {
        Err(err) => invalid(&track.path().to_string(), &err, &text, shown),
        Ok(_) => match de.end() {
            Err(trailing) => invalid("", &trailing, &text, shown),
            Ok(()) => invalid("", &first, &text, shown),
        },
    }
}

/// A bundle parse: streaming (`product` must come before what depends on it), or with
/// `product` already known to be `P` (keys in any order).
struct BundleSeed<P> {
    product_known: bool,
    product: PhantomData<P>,
}

impl<P> BundleSeed<P> {
    fn new(product_known: bool) -> Self {
        Self {
            product_known,
            product: PhantomData,
        }
    }
}

impl<'de, P: Shape> de::DeserializeSeed<'de> for BundleSeed<P> {
    type Value = Bundle<P>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Bundle<P>, D::Error> {
        deserializer.deserialize_map(BundleVisitor::<P> {
            product_known: self.product_known,
            product: PhantomData,
        })
    }
}

/// The diagnostic for a bundle that does not parse: file, line, column and field path.
fn invalid(field: &str, inner: &serde_json::Error, text: &str, shown: &str) -> BundleError {
    let message = strip_position(&inner.to_string());
    if let Some(detail) = message.strip_prefix(PRODUCT_MISMATCH) {
        return BundleError::Product {
            path: shown.to_string(),
            detail: format!("is for product {detail}"),
        };
    }
    let field = if field.is_empty() || field == "." {
        "(document)".to_string()
    } else {
        field.to_string()
    };
    let (line, column) = (inner.line().max(1), inner.column().max(1));
    let offset = offset_of(text, line, column);
    BundleError::Invalid(Box::new(InvalidBundle {
        path: shown.to_string(),
        field,
        message,
        src: NamedSource::new(shown, crate::base::secrets::snippet_safe(text)),
        span: SourceSpan::from((offset, 1usize.min(text.len().saturating_sub(offset)))),
        line,
        column,
    }))
}

/// The bundle as pretty JSON, as `collect` writes it.
pub(crate) fn to_text<P: Shape>(bundle: &Bundle<P>) -> String {
    let mut text = serde_json::to_string_pretty(bundle).unwrap_or_default();
    text.push('\n');
    text
}

/// Byte offset of serde_json's 1-based (line, byte column), clamped to a char boundary so the
/// snippet never splits a character.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return text.floor_char_boundary((offset + column.saturating_sub(1)).min(text.len()));
        }
        offset += l.len();
    }
    text.floor_char_boundary(text.len().saturating_sub(1))
}

/// serde_json appends " at line L column C"; we show that in the label instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::elastic::Elastic;

    const DEMO: &str = include_str!("../../../fixtures/facts/failed-minor-upgrade.json");

    /// Reads `text` as a bundle, streamed (`true`) or from memory.
    fn read_text(text: &str, streamed: bool) -> Result<Bundle<Elastic>, BundleError> {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("bundle.json");
        std::fs::write(&path, text).expect("write");
        read_above::<Elastic>(&path, if streamed { 0 } else { u64::MAX })
    }

    fn message(e: BundleError) -> String {
        match e {
            BundleError::Invalid(i) => format!("at `{}`: {}", i.field, i.message),
            other => other.to_string(),
        }
    }

    #[test]
    fn streamed_and_in_memory_reads_agree() {
        let sorted: std::collections::BTreeMap<String, serde_json::Value> =
            serde_json::from_str(DEMO).expect("json");
        let sorted = serde_json::to_string(&sorted).expect("json");
        for streamed in [true, false] {
            let plain = read_text(DEMO, streamed).expect("reads");
            assert_eq!(plain.facts.snapshots.as_ref().map(Vec::len), Some(8));
            let any_order = read_text(&sorted, streamed).expect("keys in any order");
            assert_eq!(any_order.facts, plain.facts);
            for (text, expected) in [
                (format!("{DEMO}garbage"), "trailing characters"),
                (
                    DEMO.replacen("\"name\": \"es-hot-1\"", "\"name\": 5", 1),
                    "at `elastic.nodes[0].name`: invalid type",
                ),
                (
                    DEMO.replacen("\"failures\":", "\"extra\": 1,\n  \"failures\":", 1),
                    "at `extra`: unknown field `extra`",
                ),
                (
                    sorted.replacen("\"product\":\"elastic\"", "\"product\":\"ghes\"", 1),
                    "is for product \"ghes\", not \"elastic\"",
                ),
            ] {
                let err = message(read_text(&text, streamed).err().expect("refused"));
                assert!(err.contains(expected), "streamed {streamed}: {err}");
            }
        }
    }
}

//! Binding only what rules read. A product's rule inputs are one struct with a field per CEL
//! variable; rules read a handful of members of them. Converting everything (every snapshot
//! of a 200,000-snapshot listing) to CEL values would cost seconds and hundreds of megabytes
//! for members no rule touches, so the inputs are serialised root by root and member by
//! member, keeping only what the loaded rules' expressions name.

use serde::ser::{self, Impossible, Serialize, SerializeStruct, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Which variables, and which of their members, some rule reads.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    /// Variable → the members read, or `None` when the variable is used whole.
    roots: BTreeMap<String, Option<BTreeSet<String>>>,
}

impl Wanted {
    /// What rules reading `paths` (see `Rule::reads`) need bound.
    pub(crate) fn of<'p>(paths: impl Iterator<Item = &'p String>) -> Self {
        let mut wanted = Self::default();
        for path in paths {
            let mut parts = path.splitn(3, '.');
            let root = parts.next().unwrap_or_default().to_string();
            let entry = wanted
                .roots
                .entry(root)
                .or_insert_with(|| Some(BTreeSet::new()));
            match (parts.next(), entry.as_mut()) {
                (Some(member), Some(members)) => {
                    members.insert(member.to_string());
                }
                (None, _) => *entry = None,
                (Some(_), None) => {}
            }
        }
        wanted
    }
}

/// The variables of `inputs` that some rule reads, as JSON, members trimmed to those read.
pub(crate) fn bind<T: Serialize>(
    inputs: &T,
    wanted: &Wanted,
) -> Result<Vec<(String, Value)>, String> {
    let sink = inputs
        .serialize(StructOnly(Roots {
            wanted,
            out: Vec::new(),
        }))
        .map_err(|e| e.0)?;
    Ok(sink.out)
}

/// The lengths of the lists rules may iterate, measured in the bound inputs before they are
/// converted to CEL values (which keep no JSON to measure later), so a rule's cost can be
/// estimated before it runs (see `Expr::estimate`).
#[derive(Debug, Default)]
pub(crate) struct Sizes {
    /// By path (`es.snapshots[].feature_states`): the longest list there.
    lengths: HashMap<String, u64>,
    /// The longest list or map anywhere in the inputs.
    largest: u64,
}

impl Sizes {
    /// Measures `paths` (as `Expr::sized_paths` names them) in `vars`.
    pub(crate) fn measure(vars: &[(String, Value)], paths: impl Iterator<Item = String>) -> Self {
        let mut lengths = HashMap::new();
        for path in paths {
            if let std::collections::hash_map::Entry::Vacant(slot) = lengths.entry(path) {
                // No list there (a missing fact, a string): nothing to iterate.
                let len = length_at(vars, slot.key()).unwrap_or(0);
                slot.insert(len);
            }
        }
        Self {
            lengths,
            largest: vars.iter().map(|(_, v)| largest_in(v)).max().unwrap_or(0),
        }
    }

    /// The longest list at `path` (0: none there), if `path` was measured.
    pub(crate) fn len(&self, path: &str) -> Option<u64> {
        self.lengths.get(path).copied()
    }

    /// The longest list or map anywhere in the inputs.
    pub(crate) fn largest(&self) -> u64 {
        self.largest
    }
}

/// The length of the longest list or map at `path` in `vars`: a variable, then members,
/// each maybe followed by `[]` ("every element of": a list's items, a map's values).
pub(crate) fn length_at(vars: &[(String, Value)], path: &str) -> Option<u64> {
    let mut parts = path.split('.');
    let (root, mut elements) = split_elements(parts.next()?);
    let mut frontier: Vec<&Value> = vars
        .iter()
        .filter(|(name, _)| name == root)
        .map(|(_, v)| v)
        .collect();
    loop {
        for _ in 0..elements {
            frontier = frontier.into_iter().flat_map(elements_of).collect();
        }
        let Some(part) = parts.next() else { break };
        let (field, more) = split_elements(part);
        elements = more;
        frontier = frontier
            .into_iter()
            .filter_map(|v| v.as_object().and_then(|m| m.get(field)))
            .collect();
    }
    frontier.into_iter().filter_map(collection_len).max()
}

/// `name[][]` → (`name`, 2).
fn split_elements(part: &str) -> (&str, usize) {
    let name = part.trim_end_matches("[]");
    (name, (part.len() - name.len()) / 2)
}

/// The items of a list or the values of a map; nothing for anything else.
fn elements_of(v: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(map) => Box::new(map.values()),
        _ => Box::new(std::iter::empty()),
    }
}

/// How many elements a list or map has.
fn collection_len(v: &Value) -> Option<u64> {
    match v {
        Value::Array(items) => Some(items.len() as u64),
        Value::Object(map) => Some(map.len() as u64),
        _ => None,
    }
}

/// The length of the longest list or map in `v`, itself included. Walked with an explicit
/// stack: inputs may nest deeply.
pub(crate) fn largest_in(v: &Value) -> u64 {
    let mut largest = 0;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        largest = largest.max(collection_len(v).unwrap_or(0));
        stack.extend(elements_of(v));
    }
    largest
}

/// Keeps the wanted fields of the inputs struct.
struct Roots<'w> {
    wanted: &'w Wanted,
    out: Vec<(String, Value)>,
}

/// Keeps the wanted fields of one variable's struct.
struct Members<'w> {
    members: &'w BTreeSet<String>,
    out: serde_json::Map<String, Value>,
}

/// Receives the fields of a struct being serialised.
trait FieldSink: Sized {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error>;
}

impl FieldSink for Roots<'_> {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let json = match self.wanted.roots.get(key) {
            None => return Ok(()),
            Some(None) => to_json(value)?,
            Some(Some(members)) => match value.serialize(StructOnly(Members {
                members,
                out: serde_json::Map::new(),
            })) {
                Ok(m) => Value::Object(m.out),
                // Not a struct (a string, or a struct with flattened fields): take it whole.
                Err(_) => to_json(value)?,
            },
        };
        self.out.push((key.to_string(), json));
        Ok(())
    }
}

impl FieldSink for Members<'_> {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        if self.members.contains(key) {
            self.out.insert(key.to_string(), to_json(value)?);
        }
        Ok(())
    }
}

fn to_json<T: ?Sized + Serialize>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error(e.to_string()))
}

/// Why a value could not be bound.
#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Self(msg.to_string())
    }
}

/// A serializer that accepts a struct only and hands its fields to a sink.
struct StructOnly<S>(S);

fn not_a_struct<T>() -> Result<T, Error> {
    Err(Error("not a struct".into()))
}

/// The `Serializer` methods a [`StructOnly`] refuses.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<S, Error> { not_a_struct() })*
    };
}

impl<S: FieldSink> Serializer for StructOnly<S> {
    type Ok = S;
    type Error = Error;
    type SerializeSeq = Impossible<S, Error>;
    type SerializeTuple = Impossible<S, Error>;
    type SerializeTupleStruct = Impossible<S, Error>;
    type SerializeTupleVariant = Impossible<S, Error>;
    type SerializeMap = Impossible<S, Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<S, Error>;

    refuse!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<S, Error> {
        not_a_struct()
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<S, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<S, Error> {
        not_a_struct()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        not_a_struct()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        not_a_struct()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        not_a_struct()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        not_a_struct()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        not_a_struct()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        not_a_struct()
    }
}

impl<S: FieldSink> SerializeStruct for StructOnly<S> {
    type Ok = S;
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.0.field(key, value)
    }

    fn end(self) -> Result<S, Error> {
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_the_longest_list_at_a_path() {
        let vars = vec![(
            "es".to_string(),
            serde_json::json!({
                "snapshots": [
                    {"feature_states": [1, 2]},
                    {"feature_states": [1, 2, 3]},
                    {"feature_states": null},
                ],
                "health": {"status": "green"},
                "grid": [[1], [1, 2, 3, 4]],
            }),
        )];
        let at = |path: &str| length_at(&vars, path);
        assert_eq!(at("es.snapshots"), Some(3));
        assert_eq!(at("es.snapshots[].feature_states"), Some(3));
        assert_eq!(at("es.health"), Some(1));
        assert_eq!(at("es.health.status"), None);
        assert_eq!(at("es.grid[]"), Some(4));
        assert_eq!(at("es.grid[][]"), None);
        assert_eq!(at("es.nope"), None);
        assert_eq!(at("kibana.instances"), None);
        assert_eq!(largest_in(&vars[0].1), 4);
        let asked = ["es.snapshots", "es.nope"].map(String::from);
        let sizes = Sizes::measure(&vars, asked.into_iter());
        assert_eq!((sizes.len("es.snapshots"), sizes.largest()), (Some(3), 4));
        assert_eq!(sizes.len("es.nope"), Some(0), "measured: no list there");
        assert_eq!(sizes.len("es.grid"), None, "not asked for");
    }
    use crate::judge::ruleset::expr::Expr;

    #[derive(serde::Serialize)]
    struct Inputs {
        es: Es,
        mode: &'static str,
        unused: u8,
    }

    #[derive(serde::Serialize)]
    struct Es {
        nodes: Vec<u8>,
        snapshots: Vec<u8>,
    }

    fn bound(sources: &[&str]) -> Value {
        let exprs: Vec<Expr> = sources
            .iter()
            .map(|s| Expr::compile(s).expect("compiles"))
            .collect();
        let inputs = Inputs {
            es: Es {
                nodes: vec![1],
                snapshots: vec![2, 3],
            },
            mode: "rollback",
            unused: 0,
        };
        let paths: Vec<String> = exprs.iter().flat_map(Expr::paths).collect();
        let vars = bind(&inputs, &Wanted::of(paths.iter())).expect("binds");
        Value::Object(vars.into_iter().collect())
    }

    #[test]
    fn only_what_rules_read_is_bound() {
        assert_eq!(
            bound(&["size(es.nodes) > 0 && mode == 'rollback'"]),
            serde_json::json!({"es": {"nodes": [1]}, "mode": "rollback"})
        );
        assert_eq!(
            bound(&["es.nodes.all(n, n > 0)", "size(es) > 0"]),
            serde_json::json!({"es": {"nodes": [1], "snapshots": [2, 3]}})
        );
    }
}

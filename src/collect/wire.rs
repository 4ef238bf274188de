//! Building blocks for reading vendor JSON bodies straight into typed wire structs, never into a
//! generic `serde_json::Value` tree: a hostile 50 MB `[0,0,0,…]` body must not expand into
//! gigabytes.
//!
//! The types read as leniently as the `Value` lookups they replace (`get`, `pointer`, `as_str`,
//! `as_i64`, `as_array`, `as_object`): a value of an unexpected kind reads as absent, never as an
//! error, and a repeated key keeps its last value (at its first position), as `Value` does.
//! Every value, read or skipped, goes through `deserialize_any`, exactly as `Value` does, so a
//! body is accepted or rejected as `serde_json::from_slice::<Value>` would (the same syntax
//! errors, the same recursion limit) without building anything for what is skipped. That is why
//! these are written by hand: a derived struct would read an array positionally, reject a
//! repeated key and fail on a value of another kind.

use indexmap::IndexMap;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// What a JSON value of each kind reads as; a kind not overridden reads as `Default`, its
/// content skipped.
pub(crate) trait FromJson: Default {
    fn from_text(_text: &str) -> Self {
        Self::default()
    }
    fn from_u64(_n: u64) -> Self {
        Self::default()
    }
    fn from_i64(_n: i64) -> Self {
        Self::default()
    }
    fn from_f64(_n: f64) -> Self {
        Self::default()
    }
    fn from_bool(_b: bool) -> Self {
        Self::default()
    }
    fn from_null() -> Self {
        Self::default()
    }
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        skip_seq(seq)?;
        Ok(Self::default())
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        skip_map(map)?;
        Ok(Self::default())
    }
}

/// Deserializes `T` from any JSON value through [`FromJson`].
pub(crate) fn deserialize_any<'de, D: Deserializer<'de>, T: FromJson>(
    deserializer: D,
) -> Result<T, D::Error> {
    deserializer.deserialize_any(AnyVisitor(PhantomData))
}

struct AnyVisitor<T>(PhantomData<T>);

impl<'de, T: FromJson> Visitor<'de> for AnyVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<T, E> {
        Ok(T::from_bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<T, E> {
        Ok(T::from_i64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<T, E> {
        Ok(T::from_u64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<T, E> {
        Ok(T::from_f64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<T, E> {
        Ok(T::from_text(v))
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::from_null())
    }
    fn visit_none<E>(self) -> Result<T, E> {
        Ok(T::from_null())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

/// Reads the rest of an array, keeping nothing.
pub(crate) fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<Skip>()?.is_some() {}
    Ok(())
}

/// Reads the rest of an object, keeping nothing.
pub(crate) fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_key::<Skip>()?.is_some() {
        map.next_value::<Skip>()?;
    }
    Ok(())
}

/// Any JSON value, read and dropped (unlike `serde::de::IgnoredAny`, through `deserialize_any`,
/// so that it accepts exactly what `Value` accepts).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Skip;

impl FromJson for Skip {}

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_any(deserializer)
    }
}

/// A string, or `None` for any other kind (`Value::as_str`).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Text(pub(crate) Option<String>);

impl FromJson for Text {
    fn from_text(text: &str) -> Self {
        Text(Some(text.to_string()))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_any(deserializer)
    }
}

impl Keep for Text {
    fn keep(&self) -> bool {
        self.0.is_some()
    }
}

/// An integer that fits an `i64`, or `None` for any other value (`Value::as_i64`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Int(pub(crate) Option<i64>);

impl FromJson for Int {
    fn from_u64(n: u64) -> Self {
        Int(i64::try_from(n).ok())
    }
    fn from_i64(n: i64) -> Self {
        Int(Some(n))
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_any(deserializer)
    }
}

/// A field that may be absent: `present` is whether the key was there at all, whatever its
/// value (`Value::get(…).is_some()`, `null` included).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Present<T> {
    pub(crate) present: bool,
    pub(crate) value: T,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Present<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Present {
            present: true,
            value: T::deserialize(deserializer)?,
        })
    }
}

/// An object keyed by name, in the body's order (a repeated key keeps its first position and
/// its last value), or `None` for any other kind (`Value::as_object`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Object<V>(pub(crate) Option<IndexMap<String, V>>);

impl<V> Default for Object<V> {
    fn default() -> Self {
        Object(None)
    }
}

impl<V: DeserializeOwned> FromJson for Object<V> {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = IndexMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<V>()?;
            out.insert(key, value);
        }
        Ok(Object(Some(out)))
    }
}

impl<'de, V: DeserializeOwned> Deserialize<'de> for Object<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_any(deserializer)
    }
}

/// An element of a [`List`]: whether the list keeps it. Elements not kept cost nothing.
pub(crate) trait Keep {
    fn keep(&self) -> bool;
}

/// An array, with only the elements worth keeping, or `None` for any other kind
/// (`Value::as_array` then `filter_map`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct List<T>(pub(crate) Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<T: DeserializeOwned + Keep> FromJson for List<T> {
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = crate::base::bounded::Gather::default();
        while let Some(item) = seq.next_element::<T>()? {
            if item.keep() {
                out.push(item);
            }
        }
        Ok(List(Some(out.finish())))
    }
}

impl<'de, T: DeserializeOwned + Keep> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_any(deserializer)
    }
}

/// A JSON object kept as it is, or empty for any other kind (`Value::as_object`, cloned). Only
/// for a small object that is itself a fact.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RawObject(pub(crate) serde_json::Map<String, serde_json::Value>);

impl FromJson for RawObject {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            out.insert(key, value);
        }
        Ok(RawObject(out))
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_any(deserializer)
    }
}

/// Declares a wire struct read from a JSON object: the listed keys into their fields (the key
/// is the field name unless given in parentheses), every other key skipped, and any value
/// that is not an object read as an object without keys (`Value::get` on a non-object).
macro_rules! wire_object {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident $(($key:literal))? : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* pub(crate) $field: $ty, )*
        }

        impl $crate::collect::wire::FromJson for $name {
            fn from_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                let mut out = Self::default();
                while let Some(key) = map.next_key::<String>()? {
                    let key = key.as_str();
                    $(
                        if key == $crate::collect::wire::wire_object!(@key $field $($key)?) {
                            out.$field = map.next_value()?;
                            continue;
                        }
                    )*
                    map.next_value::<$crate::collect::wire::Skip>()?;
                }
                Ok(out)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::collect::wire::deserialize_any(deserializer)
            }
        }
    };
    (@key $field:ident $key:literal) => { $key };
    (@key $field:ident) => { stringify!($field) };
}
pub(crate) use wire_object;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    wire_object! {
        struct Probe {
            name: Text,
            count: Int,
            kind("type"): Present<Text>,
            tags: List<Text>,
            nested: Object<Skip>,
        }
    }

    fn probe(text: &str) -> Probe {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn kinds_other_than_expected_read_as_absent() {
        let p = probe(r#"{"name": 1, "count": "2", "type": null, "tags": {}, "nested": []}"#);
        assert_eq!(p.name, Text(None));
        assert_eq!(p.count, Int(None));
        assert!(p.kind.present);
        assert_eq!(p.kind.value, Text(None));
        assert_eq!(p.tags, List(None));
        assert_eq!(p.nested, Object(None));
        assert_eq!(probe(r#"["x", 1]"#), Probe::default());
        assert_eq!(probe(r#""x""#), Probe::default());
    }

    #[test]
    fn repeated_keys_keep_the_last_value_at_the_first_position() {
        let p = probe(
            r#"{"name": "a", "name": "b", "tags": ["x", 0, null, "y"], "count": 18446744073709551615,
               "nested": {"k1": 1, "k2": 2, "k1": 3}}"#,
        );
        assert_eq!(p.name, Text(Some("b".into())));
        assert_eq!(p.count, Int(None), "beyond i64");
        assert_eq!(
            p.tags,
            List(Some(vec![Text(Some("x".into())), Text(Some("y".into()))]))
        );
        let keys: Vec<_> = p.nested.0.unwrap().into_keys().collect();
        assert_eq!(keys, ["k1", "k2"]);
    }

    #[test]
    fn rejects_exactly_what_value_rejects_with_the_same_error() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let nested_deep = format!(
            r#"{{"nested": {{"a": {}{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        for body in [
            "",
            "[0,0,0",
            r#"{"name": "a""#,
            r#"{"unknown": 1e400}"#,
            r#"{"unknown": "\ud800"}"#,
            r#"{"unknown": [01]}"#,
            "{} x",
            "<html>",
            deep.as_str(),
            nested_deep.as_str(),
        ] {
            let value = serde_json::from_str::<Value>(body)
                .map(|_| ())
                .map_err(|e| e.to_string());
            let typed = serde_json::from_str::<Probe>(body)
                .map(|_| ())
                .map_err(|e| e.to_string());
            let skip = serde_json::from_str::<Skip>(body)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(typed, value, "{body}");
            assert_eq!(skip, value, "{body}");
        }
    }
}

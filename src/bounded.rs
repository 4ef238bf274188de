//! Limits on how much a parsed answer may hold, whatever its byte size: a count of JSON values
//! checked before a generic tree is built, and a bounded list for typed listings.
//!
//! Bytes alone do not bound memory: `[0,0,0,…]` is two bytes per value, and each value of a
//! generic JSON tree costs some eighty bytes; a snapshot of thirty bytes of JSON becomes a few
//! hundred bytes of struct. So the documents ripcord reads as trees are first counted, and the
//! listings it reads typed stop at a number of entries no real cluster reaches.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Counts the JSON values of `body` (every scalar, array and object, keys excluded), stopping
/// with an error as soon as there are more than `limit`. Nothing is kept.
pub(crate) fn check_values(body: &[u8], limit: usize) -> Result<(), String> {
    let mut count = 0usize;
    let mut de = serde_json::Deserializer::from_slice(body);
    match (Counter {
        count: &mut count,
        limit,
    })
    .deserialize(&mut de)
    {
        Ok(()) => Ok(()),
        Err(e) if count > limit => Err(format!(
            "answer too large: more than {limit} JSON values ({e})"
        )),
        // Not JSON: the real parse that follows names it.
        Err(_) => Ok(()),
    }
}

struct Counter<'a> {
    count: &'a mut usize,
    limit: usize,
}

impl Counter<'_> {
    fn one<E: de::Error>(&mut self) -> Result<(), E> {
        *self.count += 1;
        if *self.count > self.limit {
            return Err(E::custom("value limit reached"));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(mut self, _: bool) -> Result<(), E> {
        self.one()
    }
    fn visit_i64<E: de::Error>(mut self, _: i64) -> Result<(), E> {
        self.one()
    }
    fn visit_u64<E: de::Error>(mut self, _: u64) -> Result<(), E> {
        self.one()
    }
    fn visit_f64<E: de::Error>(mut self, _: f64) -> Result<(), E> {
        self.one()
    }
    fn visit_str<E: de::Error>(mut self, _: &str) -> Result<(), E> {
        self.one()
    }
    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.one()
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.one()?;
        while seq
            .next_element_seed(Counter {
                count: &mut *self.count,
                limit: self.limit,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        self.one()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Counter {
                count: &mut *self.count,
                limit: self.limit,
            })?;
        }
        Ok(())
    }
}

/// A list of at most `N` entries: one entry more is an error ("more than N entries"), raised
/// while parsing, before the list grows further. For `#[serde(deserialize_with)]`.
pub(crate) fn vec<'de, D, T, const N: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    struct Bounded<T, const N: usize>(std::marker::PhantomData<T>);
    impl<'de, T: de::Deserialize<'de>, const N: usize> Visitor<'de> for Bounded<T, N> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {N} entries")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                if out.len() == N {
                    return Err(de::Error::custom(format!(
                        "answer too large: more than {N} entries in one list"
                    )));
                }
                out.push(item);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded::<T, N>(std::marker::PhantomData))
}

/// [`vec`] for an optional field.
pub(crate) fn option_vec<'de, D, T, const N: usize>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: de::Deserialize<'de>,
{
    vec::<D, T, N>(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_values_and_stops_at_the_limit() {
        assert!(check_values(br#"{"a":[1,2,{"b":null}]}"#, 6).is_ok());
        let e = check_values(br#"{"a":[1,2,{"b":null}]}"#, 5).expect_err("over");
        assert!(e.contains("more than 5 JSON values"), "{e}");
        assert!(
            check_values(b"<html>", 5).is_ok(),
            "not JSON is for the parser to name"
        );
    }

    #[test]
    fn bounded_lists_refuse_one_more() {
        #[derive(serde::Deserialize, Debug)]
        struct L {
            #[serde(deserialize_with = "vec::<_, _, 2>")]
            items: Vec<u8>,
        }
        assert_eq!(
            serde_json::from_str::<L>(r#"{"items":[1,2]}"#)
                .expect("ok")
                .items,
            [1, 2]
        );
        let e = serde_json::from_str::<L>(r#"{"items":[1,2,3]}"#).expect_err("three");
        assert!(e.to_string().contains("more than 2 entries"), "{e}");
    }
}

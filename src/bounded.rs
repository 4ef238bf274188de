//! A limit on how many entries a parsed listing may hold, whatever its byte size.
//!
//! Bytes alone do not bound memory: a snapshot of thirty bytes of JSON becomes a few hundred
//! bytes of struct, so a server streaming minimal entries without end would fill memory long
//! before the byte cap. Listings stop at a number of entries no real cluster reaches.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;

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

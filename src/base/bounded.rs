//! A limit on how many entries a parsed listing may hold, whatever its byte size.
//!
//! Bytes alone do not bound memory: a snapshot of thirty bytes of JSON becomes a few hundred
//! bytes of struct, so a server streaming minimal entries without end would fill memory long
//! before the byte cap. Listings stop at a number of entries no real cluster reaches.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;

/// Entries per chunk of a long list being read (see [`Gather`]).
const CHUNK: usize = 4096;

/// A list being read, gathered in chunks of fixed size and moved into one list of the exact
/// length at the end. A list grown by doubling holds up to twice the room it needs (524,288
/// slots for 270,000 snapshots: 55 MB unused), and grows by jumps that no memory check
/// between reads can stop; chunks grow a little at a time, and the final list is written once
/// while the chunks are freed one by one.
#[derive(Debug)]
pub(crate) struct Gather<T> {
    full: Vec<Vec<T>>,
    current: Vec<T>,
}

impl<T> Default for Gather<T> {
    fn default() -> Self {
        Self {
            full: Vec::new(),
            current: Vec::new(),
        }
    }
}

impl<T> Gather<T> {
    pub(crate) fn len(&self) -> usize {
        self.full.len() * CHUNK + self.current.len()
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.current.len() == CHUNK {
            let full = std::mem::replace(&mut self.current, Vec::with_capacity(CHUNK));
            self.full.push(full);
        }
        self.current.push(item);
    }

    pub(crate) fn finish(mut self) -> Vec<T> {
        if self.full.is_empty() {
            self.current.shrink_to_fit();
            return self.current;
        }
        let mut out = Vec::with_capacity(self.len());
        for chunk in self.full {
            out.extend(chunk);
        }
        out.extend(self.current);
        out
    }
}

/// A list of at most `N` entries, read as `W` and kept as `T`: one entry more is an error
/// ("more than N entries"), raised while parsing, before the list grows further. Each entry
/// is converted as soon as it is read, so only the (smaller) kept form is ever in memory as a
/// list. For `#[serde(deserialize_with)]`.
pub(crate) fn vec_of<'de, D, W, T, const N: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    W: de::Deserialize<'de> + Into<T>,
{
    struct Bounded<W, T, const N: usize>(std::marker::PhantomData<(W, T)>);
    impl<'de, W: de::Deserialize<'de> + Into<T>, T, const N: usize> Visitor<'de> for Bounded<W, T, N> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {N} entries")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Gather::default();
            while let Some(item) = seq.next_element::<W>()? {
                if out.len() == N {
                    return Err(de::Error::custom(format!(
                        "answer too large: more than {N} entries in one list"
                    )));
                }
                out.push(item.into());
            }
            Ok(out.finish())
        }
    }
    d.deserialize_seq(Bounded::<W, T, N>(std::marker::PhantomData))
}

/// [`vec_of`] for an optional field.
pub(crate) fn option_vec_of<'de, D, W, T, const N: usize>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    W: de::Deserialize<'de> + Into<T>,
{
    vec_of::<D, W, T, N>(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathered_lists_keep_every_entry_in_order() {
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7] {
            let mut g = Gather::default();
            (0..n).for_each(|i| g.push(i));
            assert_eq!(g.len(), n);
            let v = g.finish();
            assert_eq!(v, (0..n).collect::<Vec<_>>());
            assert_eq!(v.capacity(), n, "exact length for {n}");
        }
    }

    #[test]
    fn bounded_lists_refuse_one_more() {
        #[derive(serde::Deserialize, Debug)]
        struct L {
            #[serde(deserialize_with = "vec_of::<_, u8, _, 2>")]
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

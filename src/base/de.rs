//! Serde readers for the shapes a configuration file writes a flag's values in: one value or
//! a list (`kibana = "https://kb:5601"` or `kibana = [...]`), and pairs as a table
//! (`replica = { "ghe-replica-1" = "3.14.2" }` for `--replica HOST=VALUE`). They let a fleet
//! inventory fill a product's own argument type with serde, the flags' values unchanged.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// One string or a list of strings.
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(Strings { pairs: false })
}

/// One string, a list of strings, or a table whose entries become `KEY=VALUE` strings.
pub(crate) fn one_many_or_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(Strings { pairs: true })
}

struct Strings {
    /// Whether a table of `KEY = "VALUE"` is taken.
    pairs: bool,
}

impl<'de> Visitor<'de> for Strings {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.pairs {
            f.write_str("a string, an array of strings or a table of strings")
        } else {
            f.write_str("a string or an array of strings")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<String>()? {
            out.push(item);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if !self.pairs {
            return Err(de::Error::invalid_type(de::Unexpected::Map, &self));
        }
        let mut out = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, String>()? {
            out.push(format!("{key}={value}"));
        }
        Ok(out)
    }
}

/// A string read by `parse`, the function the command line's value parser uses, so a file
/// and a flag refuse the same values in the same words.
pub(crate) fn parsed<'de, D, T>(
    d: D,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let raw: String = serde::Deserialize::deserialize(d)?;
    parse(&raw).map_err(de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct Holder {
        #[serde(default, deserialize_with = "one_or_many")]
        urls: Vec<String>,
        #[serde(default, deserialize_with = "one_many_or_pairs")]
        pairs: Vec<String>,
    }

    #[test]
    fn one_value_a_list_or_pairs() {
        let h: Holder =
            toml::from_str("urls = \"a\"\npairs = { x = \"1\", y = \"2\" }").expect("ok");
        assert_eq!(h.urls, ["a"]);
        assert_eq!(h.pairs, ["x=1", "y=2"]);
        let h: Holder = toml::from_str("urls = [\"a\", \"b\"]\npairs = [\"x=1\"]").expect("ok");
        assert_eq!(h.urls, ["a", "b"]);
        assert_eq!(h.pairs, ["x=1"]);
        let e = toml::from_str::<Holder>("urls = { x = \"1\" }").expect_err("a table");
        assert!(
            e.message().contains("a string or an array of strings"),
            "{e}"
        );
        let e = toml::from_str::<Holder>("urls = [1]").expect_err("a number");
        assert!(e.message().contains("invalid type: integer"), "{e}");
    }
}

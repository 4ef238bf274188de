//! Elastic's release table (`rules/elastic/releases.json`) and what it can, and cannot, say
//! about an upgrade: the out-of-order rule ("you can upgrade only to a version with a higher
//! number and a later release date than the one you run"), versions that cannot exist (a minor
//! beyond its closed major's last), and where the table's knowledge ends. A version the table
//! does not list is named as such: the table is data that ages, and a pass it cannot vouch for
//! must say so rather than read as checked.

use crate::base::version;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Elastic release dates, shipped with the rules.
pub(crate) const RELEASES_JSON: &str = include_str!("../../../rules/elastic/releases.json");

#[derive(serde::Deserialize)]
struct ReleaseFile {
    releases: HashMap<String, String>,
    last_minor: BTreeMap<String, u64>,
}

/// The table, parsed once (a test keeps the embedded file valid).
struct Table {
    dates: HashMap<String, String>,
    /// Major → its last minor, for the majors Elastic has closed.
    last_minor: BTreeMap<u64, u64>,
    /// The newest release date listed: how far the table's knowledge reaches.
    until: String,
    /// The oldest version listed (the table starts at 7.17.0).
    first: String,
    /// `major.minor` → its newest listed patch.
    newest_of_line: HashMap<(u64, u64), String>,
}

static TABLE: std::sync::LazyLock<Table> = std::sync::LazyLock::new(|| {
    let file = serde_json::from_str::<ReleaseFile>(RELEASES_JSON).unwrap_or(ReleaseFile {
        releases: HashMap::new(),
        last_minor: BTreeMap::new(),
    });
    let until = file.releases.values().max().cloned().unwrap_or_default();
    let mut listed: Vec<(&String, semver::Version)> = file
        .releases
        .keys()
        .filter_map(|v| version::parse_lenient(v).ok().map(|p| (v, p)))
        .collect();
    listed.sort_by(|a, b| a.1.cmp(&b.1));
    let first = listed
        .first()
        .map(|(v, _)| (*v).clone())
        .unwrap_or_default();
    let mut newest_of_line = HashMap::new();
    for (v, p) in &listed {
        newest_of_line.insert((p.major, p.minor), (*v).clone());
    }
    Table {
        last_minor: file
            .last_minor
            .iter()
            .filter_map(|(major, minor)| major.parse().ok().map(|m| (m, *minor)))
            .collect(),
        dates: file.releases,
        until,
        first,
        newest_of_line,
    }
});

/// Elastic: "you can upgrade only to a version with a higher number and a later release date
/// than the one you run" (9.0.8, released 2025-10-06, cannot go to 9.1.0, released 2025-07-29).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub(crate) struct ReleaseOrder {
    /// The release date of `from` and of `to` (`YYYY-MM-DD`), when the table lists them.
    pub(crate) from_released: Option<String>,
    pub(crate) to_released: Option<String>,
    /// `to` was released on or after `from` (versions shipped together share a date; patches
    /// of one minor come out in order); `None` when a date it needs is not in the table.
    pub(crate) in_order: Option<bool>,
    /// The newest release date the table lists (`2026-10-06`).
    pub(crate) table_until: String,
    /// Why the release check could not be made, naming the version the table does not list
    /// ("9.6.0 is not in ripcord's release table (to 2026-10-06): its date was not checked");
    /// `None` when it was made. A rule that passes on the numbers is `unknown` with this.
    pub(crate) unchecked: Option<String>,
    /// Why `from` or `to` cannot exist: a minor beyond the last of its closed major
    /// ("8.20.0 cannot exist: 8.19 is the last minor of 8.x").
    pub(crate) impossible: Option<String>,
    /// The last minor of `from`'s major, when Elastic has closed that major (19 for 8.x): a
    /// major upgrade starts there. The same table as `impossible`, so the rule names no minor.
    pub(crate) from_major_last_minor: Option<i64>,
}

/// What the table says of `from_v` → `to_v`.
pub(crate) fn release_order(from_v: Option<&str>, to_v: Option<&str>) -> ReleaseOrder {
    let table = &*TABLE;
    let date = |v: Option<&str>| v.and_then(|v| table.dates.get(v).cloned());
    let from_released = date(from_v);
    let to_released = date(to_v);
    let parsed = |v: Option<&str>| v.and_then(|v| version::parse_lenient(v).ok());
    let (from, to) = (parsed(from_v), parsed(to_v));
    let same_line_forward = match (&from, &to) {
        (Some(f), Some(t)) => (f.major, f.minor) == (t.major, t.minor) && t > f,
        _ => false,
    };
    // The table starts at 7.17.0, and 7.x before it was maintained one minor at a time: a
    // 7.x older than 7.17.0 came out before every version listed.
    let before_the_table = from
        .as_ref()
        .zip(version::parse_lenient(&table.first).ok())
        .is_some_and(|(f, first)| f.major == first.major && *f < first);
    let in_order = match (&from_released, &to_released) {
        (Some(f), Some(t)) => Some(t >= f),
        _ if same_line_forward => Some(true),
        (None, Some(_)) if before_the_table => Some(true),
        _ => None,
    };
    let impossible = [to_v, from_v]
        .into_iter()
        .flatten()
        .find_map(|v| cannot_exist(table, v));
    let unchecked = match (from_v, to_v) {
        (Some(from_v), Some(to_v)) if impossible.is_none() => {
            if to_released.is_none() {
                Some(not_listed(table, to_v, "its date was not checked"))
            } else if in_order.is_none() {
                Some(not_listed(
                    table,
                    from_v,
                    &format!(
                        "its date was not checked, so whether {to_v} was released after it is unknown"
                    ),
                ))
            } else {
                None
            }
        }
        _ => None,
    };
    let from_major_last_minor = from
        .as_ref()
        .and_then(|f| table.last_minor.get(&f.major))
        .and_then(|m| i64::try_from(*m).ok());
    ReleaseOrder {
        from_released,
        to_released,
        in_order,
        table_until: table.until.clone(),
        unchecked,
        impossible,
        from_major_last_minor,
    }
}

/// `8.20.0`: beyond 8.19, the last minor of the closed 8.x.
fn cannot_exist(table: &Table, raw: &str) -> Option<String> {
    let v = version::parse_lenient(raw).ok()?;
    let last = table.last_minor.get(&v.major)?;
    (v.minor > *last).then(|| {
        format!(
            "{raw} cannot exist: {}.{last} is the last minor of {}.x",
            v.major, v.major
        )
    })
}

/// How a version the table does not list is named, by where it falls.
fn not_listed(table: &Table, raw: &str, consequence: &str) -> String {
    let Ok(v) = version::parse_lenient(raw) else {
        return format!(
            "{raw} is not a version ripcord's release table can look up: {consequence}"
        );
    };
    let older = version::compare(raw, &table.first).is_ok_and(|o| o.is_lt());
    match table.newest_of_line.get(&(v.major, v.minor)) {
        _ if older => format!(
            "{raw} is older than ripcord's release table (from {}): {consequence}",
            table.first
        ),
        Some(newest) if version::compare(raw, newest).is_ok_and(|o| o.is_lt()) => format!(
            "{raw} is not in ripcord's release table, which lists {}.{} up to {newest}: check that {raw} was released; {consequence}",
            v.major, v.minor
        ),
        _ => format!(
            "{raw} is not in ripcord's release table (to {}): {consequence}",
            table.until
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(from: &str, to: &str) -> ReleaseOrder {
        release_order(Some(from), Some(to))
    }

    #[test]
    fn the_table_ships_and_parses() {
        let table = &*TABLE;
        assert!(table.dates.len() > 100);
        assert_eq!(
            table.dates.get("9.1.0").map(String::as_str),
            Some("2025-07-29")
        );
        assert_eq!(table.until, "2026-10-06");
        assert_eq!(table.first, "7.17.0");
        assert_eq!(table.last_minor.get(&8), Some(&19));
        assert_eq!(table.last_minor.get(&7), Some(&17));
        assert_eq!(table.last_minor.get(&9), None, "9.x is open");
    }

    #[test]
    fn listed_versions_are_judged_on_their_dates() {
        let known = order("8.17.3", "8.18.0");
        assert_eq!((known.in_order, known.unchecked), (Some(true), None));
        let backwards = order("9.0.8", "9.1.0");
        assert_eq!(backwards.in_order, Some(false));
        assert_eq!(backwards.unchecked, None);
    }

    #[test]
    fn a_version_beyond_the_table_is_named_never_passed() {
        for (from, to, says) in [
            (
                "9.5.4",
                "9.6.0",
                "9.6.0 is not in ripcord's release table (to 2026-10-06): its date was not checked",
            ),
            (
                "9.5.4",
                "9.5.5",
                "9.5.5 is not in ripcord's release table (to 2026-10-06)",
            ),
            (
                "8.19.23",
                "9.5.4",
                "8.19.23 is not in ripcord's release table (to 2026-10-06): its date was not checked, so whether 9.5.4 was released after it is unknown",
            ),
            (
                "6.8.23",
                "7.17.0",
                "6.8.23 is older than ripcord's release table (from 7.17.0)",
            ),
        ] {
            let o = order(from, to);
            let why = o.unchecked.unwrap_or_default();
            assert!(why.contains(says), "{from} -> {to}: {why}");
        }
    }

    #[test]
    fn a_7x_before_the_table_came_out_before_all_of_it() {
        let o = order("7.13.4", "7.17.10");
        assert_eq!((o.in_order, o.unchecked), (Some(true), None));
    }

    #[test]
    fn within_one_minor_no_date_is_needed() {
        // Both listed or not, patches of one minor come out in order; only an unlisted target
        // leaves its existence unchecked.
        let o = order("8.19.23", "8.19.24");
        assert_eq!(o.in_order, Some(true));
        assert!(
            o.unchecked
                .is_some_and(|w| w.starts_with("8.19.24 is not in"))
        );
    }

    #[test]
    fn minors_beyond_a_closed_major_cannot_exist() {
        for (from, to, says) in [
            (
                "8.19.20",
                "8.20.0",
                "8.20.0 cannot exist: 8.19 is the last minor of 8.x",
            ),
            (
                "7.17.29",
                "7.18.0",
                "7.18.0 cannot exist: 7.17 is the last minor of 7.x",
            ),
            ("8.21.1", "9.1.0", "8.21.1 cannot exist"),
        ] {
            let o = order(from, to);
            assert!(
                o.impossible.as_deref().is_some_and(|w| w.starts_with(says)),
                "{o:?}"
            );
            assert_eq!(
                o.unchecked, None,
                "a version that cannot exist is a failure, not unknown"
            );
        }
        assert_eq!(order("9.5.4", "9.6.0").impossible, None, "9.x is open");
    }
}

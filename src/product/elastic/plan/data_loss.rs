//! What a Kibana restore loses, in words and counted: the warning, the headline's one line,
//! and the report's `data_loss` (counted through Kibana or Elasticsearch, a lower bound where
//! Kibana may hide what its user cannot read).

use super::super::derive::SnapshotChoice;
use super::{Ctx, time};
use crate::model::report::v1::DataLoss;

/// The plan's warning of what the restore loses, in at most two sentences: what is lost and,
/// when counted, how much; then what could not be counted, one entry per cause.
pub(super) fn lost_since(ctx: &Ctx<'_>, snap: &SnapshotChoice) -> String {
    let lost = format!(
        "Restoring loses what Kibana saved after {} (the snapshot's start): saved objects, alerting and task state",
        time(snap)
    );
    match data_loss(ctx, snap) {
        DataLoss::Counted {
            counts,
            not_counted,
            lower_bound,
            ..
        } => {
            let through = if lower_bound {
                "counted through Kibana, which counts only what this user may read"
            } else {
                "counted through Elasticsearch"
            };
            format!(
                "{lost}; {through}: {}. Not counted: {}.",
                changed_since(&counts, lower_bound),
                by_cause(&not_counted)
            )
        }
        DataLoss::Unknown { unknown } => {
            let unknown = unknown
                .strip_prefix("every count failed: ")
                .unwrap_or(&unknown);
            format!(
                "{lost}. Not counted: {}.",
                by_cause(&unknown.split("; ").map(str::to_string).collect::<Vec<_>>())
            )
        }
    }
}

/// The headline block's line of what the restore loses.
pub(super) fn loses_line(ctx: &Ctx<'_>, snap: &SnapshotChoice) -> String {
    match data_loss(ctx, snap) {
        DataLoss::Counted {
            counts,
            lower_bound: true,
            ..
        } if counts.values().all(|n| *n == 0) => format!(
            "Loses what Kibana saved after {}: Kibana counted no change this user may read, which is not proof that nothing changed",
            time(snap)
        ),
        DataLoss::Counted {
            counts,
            lower_bound,
            ..
        } => format!(
            "Loses what Kibana saved after {}: {} (counted through {})",
            time(snap),
            changed_since(&counts, lower_bound),
            if lower_bound {
                "Kibana: only what this user may read"
            } else {
                "Elasticsearch"
            }
        ),
        DataLoss::Unknown { .. } => format!(
            "Loses what Kibana saved after {} (not counted: see the warnings)",
            time(snap)
        ),
    }
}

/// Why a count through Kibana is at least what was lost (Kibana's saved-objects and rules
/// finds answer 200 with `total: 0` for a type it does not register and for spaces or types
/// the user may not read, and count a partly authorised user's readable spaces only).
const KIBANA_LOWER_BOUND: &str = "Kibana counts only what the user it asked as may read: a type it does not register, or a space or type that user may not read, counts 0 without an error";

/// `12 dashboards, 4 visualizations and 3 rules changed since`, most first; or that none did.
/// A lower bound says `at least`, and its zero is never "nothing changed".
fn changed_since(counts: &std::collections::BTreeMap<String, u64>, lower_bound: bool) -> String {
    let mut changed: Vec<(&String, &u64)> = counts.iter().filter(|(_, n)| **n > 0).collect();
    changed.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let words: Vec<String> = changed
        .iter()
        .map(|(kind, n)| format!("{n} {}", saved_object_words(kind, **n)))
        .collect();
    let at_least = if lower_bound { "at least " } else { "" };
    match words.as_slice() {
        [] if lower_bound => {
            "no change this user may read, which is not proof that nothing changed".to_string()
        }
        [] => "no saved object changed since".to_string(),
        [one] => format!("{at_least}{one} changed since"),
        [rest @ .., last] => format!("{at_least}{} and {last} changed since", rest.join(", ")),
    }
}

/// A saved-object type as a person names it, in the singular or plural.
fn saved_object_words(kind: &str, n: u64) -> String {
    let (one, many) = match kind {
        "dashboard" => ("dashboard", "dashboards"),
        "visualization" => ("visualization", "visualizations"),
        "lens" => ("Lens visualization", "Lens visualizations"),
        "search" => ("saved search", "saved searches"),
        "index-pattern" => ("data view", "data views"),
        "map" => ("map", "maps"),
        "canvas-workpad" => ("Canvas workpad", "Canvas workpads"),
        "tag" => ("tag", "tags"),
        "query" => ("saved query", "saved queries"),
        "alert" => ("rule", "rules"),
        other => return other.to_string(),
    };
    if n == 1 { one } else { many }.to_string()
}

/// What could not be counted, one entry per cause: `dashboard (HTTP 404)` and `lens (HTTP
/// 404)` become `dashboard and lens (HTTP 404)`.
fn by_cause(entries: &[String]) -> String {
    let mut causes: Vec<(String, Vec<String>)> = Vec::new();
    for entry in entries {
        let (what, cause) = match entry.split_once(" (") {
            Some((what, rest)) => (what.to_string(), rest.trim_end_matches(')').to_string()),
            None => (entry.clone(), String::new()),
        };
        match causes
            .iter_mut()
            .find(|(c, _)| *c == cause && !c.is_empty())
        {
            Some((_, whats)) => whats.push(what),
            None => causes.push((cause, vec![what])),
        }
    }
    causes
        .into_iter()
        .map(|(cause, whats)| {
            let whats = whats.join(", ");
            if cause.is_empty() {
                whats
            } else {
                format!("{whats} ({cause})")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What restoring `snap` loses: the saved objects counted at collection since its start.
pub(super) fn data_loss(ctx: &Ctx<'_>, snap: &SnapshotChoice) -> DataLoss {
    match &ctx.bundle.facts.data_loss {
        Some(f) if f.unknown.is_some() => DataLoss::Unknown {
            unknown: f.unknown.clone().unwrap_or_default(),
        },
        Some(f) if Some(f.since) == snap.start_time && f.counts.is_empty() => DataLoss::Unknown {
            unknown: format!("every count failed: {}", f.not_counted.join("; ")),
        },
        Some(f) if Some(f.since) == snap.start_time => {
            // Elasticsearch's _count answers 403 without the read right, never a quiet 0;
            // Kibana's finds answer 200 with what the user may read.
            let through_kibana = f.source == "kibana";
            DataLoss::Counted {
                since: f.since,
                counts: f.counts.clone(),
                source: f.source.clone(),
                not_counted: f.not_counted.clone(),
                lower_bound: through_kibana,
                lower_bound_because: through_kibana.then(|| KIBANA_LOWER_BOUND.to_string()),
            }
        }
        Some(f) => DataLoss::Unknown {
            unknown: format!(
                "counted since {}, but this plan restores a snapshot started {}: collect again",
                f.since,
                time(snap)
            ),
        },
        None => DataLoss::Unknown {
            unknown: "the facts hold no count (judged from a bundle of an older ripcord, or collected without Elasticsearch)".into(),
        },
    }
}

//! Screening: every outside value that can reach a command is checked for what it names
//! ([`crate::model::names`]) before derive sees the facts (DESIGN §7). A fact that fails is removed
//! and becomes a failure of its group — the rules that need it are `unknown`, naming the
//! field and why — so no plan is built from it. Each product's `screen` says which fields
//! name what; this module keeps the bookkeeping they share.

use super::{CollectFailure, RequestRecord};
use crate::model::names::Invalid;

/// The failures a screening found, one per fact group (the first bad field names it).
#[derive(Debug)]
pub(crate) struct Screening<'r> {
    requests: &'r [RequestRecord],
    pub(crate) failures: Vec<CollectFailure>,
}

impl<'r> Screening<'r> {
    pub(crate) fn new(requests: &'r [RequestRecord]) -> Self {
        Self {
            requests,
            failures: Vec::new(),
        }
    }

    /// Checks one group's fields: `None` when every one passes, else the group is refused
    /// (`false` returned: the caller drops it) with the first bad field and why.
    pub(crate) fn group(
        &mut self,
        group: &str,
        endpoint: &str,
        checks: impl IntoIterator<Item = (String, Result<(), Invalid>)>,
    ) -> bool {
        let Some((field, why)) = checks
            .into_iter()
            .find_map(|(field, result)| result.err().map(|why| (field, why)))
        else {
            return true;
        };
        let path = endpoint.split_whitespace().last().unwrap_or(endpoint);
        let status = self
            .requests
            .iter()
            .find(|r| r.url.ends_with(path) || r.url.contains(&format!("{path}?")))
            .and_then(|r| r.status);
        self.failures.push(CollectFailure {
            group: group.to_string(),
            endpoint: endpoint.to_string(),
            status,
            reason: format!(
                "the answer was refused: its {field} {why}; ripcord puts no such value in a command"
            ),
            hint: Some(
                "a server (or an edited bundle) that names things this way is not what it claims to be: check what answers at this URL".into(),
            ),
        });
        false
    }
}

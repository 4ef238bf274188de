//! Root causes of what could not be collected: one DNS failure or one rejected credential
//! fails every request of a service, and nine lines that differ only in their URL hide that
//! there is one thing to fix. Failures whose reason and hint are the same once URLs and paths
//! are left out are one cause, listed once with the requests it failed.

/// One root cause and the requests it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// The reason as reported when one request failed this way, else without its URLs.
    pub(crate) reason: String,
    pub(crate) hint: Option<String>,
    /// The requests (`GET /_nodes`), in the order given.
    pub(crate) endpoints: Vec<String>,
}

impl Cause {
    /// `GET /` or `9 requests (GET /, GET /_nodes, GET /_features and 6 more)`.
    pub(crate) fn requests(&self) -> String {
        const SHOWN: usize = 3;
        match self.endpoints.as_slice() {
            [one] => one.clone(),
            all => {
                let mut names = all[..all.len().min(SHOWN)].join(", ");
                if all.len() > SHOWN {
                    names.push_str(&format!(" and {} more", all.len() - SHOWN));
                }
                format!("{} requests ({names})", all.len())
            }
        }
    }
}

/// Groups `(endpoint, reason, hint)` failures by root cause, in order of first appearance.
pub(crate) fn group<'a>(
    failures: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
) -> Vec<Cause> {
    let mut causes: Vec<(String, Cause)> = Vec::new();
    for (endpoint, reason, hint) in failures {
        let key = format!("{}\u{0}{}", without_locations(reason), hint.unwrap_or(""));
        match causes.iter_mut().find(|(k, _)| *k == key) {
            Some((_, cause)) => {
                cause.endpoints.push(endpoint.to_string());
                cause.reason = without_locations(reason);
            }
            None => causes.push((
                key,
                Cause {
                    reason: reason.to_string(),
                    hint: hint.map(str::to_string),
                    endpoints: vec![endpoint.to_string()],
                },
            )),
        }
    }
    causes.into_iter().map(|(_, c)| c).collect()
}

/// `reason` without the bracketed or parenthesised URLs and paths that make each request's
/// reason different: `error sending request for url (http://es:9200/_nodes?…)`,
/// `for REST request [/_nodes]`.
fn without_locations(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(open) = rest.find(['(', '[']) {
        let close_char = if rest.as_bytes()[open] == b'(' {
            ')'
        } else {
            ']'
        };
        let Some(len) = rest[open..].find(close_char) else {
            break;
        };
        let inside = &rest[open + 1..open + len];
        if inside.contains('/') {
            let before = rest[..open].trim_end();
            let before = before.strip_suffix(" for url").unwrap_or(before);
            out.push_str(before);
            rest = &rest[open + len + 1..];
        } else {
            out.push_str(&rest[..=open + len]);
            rest = &rest[open + len + 1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_dns_failure_is_one_cause() {
        let dns = |url: &str| {
            format!(
                "connection failed: error sending request for url ({url}): client error (Connect): dns error: failed to lookup address information: Name or service not known"
            )
        };
        let a = dns("http://es.invalid:9200/");
        let b = dns("http://es.invalid:9200/_nodes?filter_path=nodes.*.name");
        let c = dns("http://kb.invalid:5601/api/status");
        let causes = group([
            ("GET /", a.as_str(), None),
            ("GET /_nodes", b.as_str(), None),
            ("GET http://kb.invalid:5601 /api/status", c.as_str(), None),
        ]);
        assert_eq!(causes.len(), 1, "{causes:#?}");
        assert_eq!(
            causes[0].reason,
            "connection failed: error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known"
        );
        assert_eq!(
            causes[0].requests(),
            "3 requests (GET /, GET /_nodes, GET http://kb.invalid:5601 /api/status)"
        );
    }

    #[test]
    fn different_reasons_or_hints_stay_apart() {
        let causes = group([
            (
                "GET /",
                "HTTP 401: security_exception: missing authentication credentials for REST request [/]",
                Some("no credentials were set"),
            ),
            (
                "GET /_nodes",
                "HTTP 401: security_exception: missing authentication credentials for REST request [/_nodes]",
                Some("no credentials were set"),
            ),
            ("GET /_snapshot", "HTTP 500: boom", None),
            ("GET /_features", "HTTP 401: x", Some("rejected")),
        ]);
        assert_eq!(causes.len(), 3, "{causes:#?}");
        assert_eq!(
            causes[0].reason,
            "HTTP 401: security_exception: missing authentication credentials for REST request"
        );
        // A cause of one request keeps its reason whole.
        assert_eq!(causes[1].reason, "HTTP 500: boom");
        assert_eq!(causes[1].requests(), "GET /_snapshot");
    }

    #[test]
    fn long_lists_are_cut() {
        let causes = group((0..9).map(|_| ("GET /x", "HTTP 401", None)));
        assert_eq!(
            causes[0].requests(),
            "9 requests (GET /x, GET /x, GET /x and 6 more)"
        );
    }
}

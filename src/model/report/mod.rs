//! The report contracts (`ripcord.report/v1`, `ripcord.fleet/v1`) and the few words every
//! renderer says of them the same way (a time, an age).

pub mod fleet_v1;
pub mod v1;

/// Which severities make a failure count against readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum FailOn {
    #[default]
    Blocker,
    Warning,
}

impl crate::base::named::Named for FailOn {
    const ALL: &'static [Self] = &[Self::Blocker, Self::Warning];

    fn name(self) -> &'static str {
        match self {
            Self::Blocker => "blocker",
            Self::Warning => "warning",
        }
    }
}

/// `2026-11-20T12:00Z`: a collection time, to the minute, in UTC.
pub(crate) fn as_of(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%MZ").to_string()
}

/// `37 h`, `12 min`, `3 d`: an age for people.
pub(crate) fn age_text(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{} s", s.max(0)),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 3 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

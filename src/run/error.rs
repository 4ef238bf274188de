//! Why one target's pipeline could not give a report (exit 2), in its own terms: its flags,
//! its bundle, the rules or waivers, the client, an output, or nothing collected at all.

use crate::base::usage::Usage;

/// Every way the single-target pipeline can fail before it has a report to give.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] Usage),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Bundle(#[from] crate::model::facts::bundle::BundleError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rules(#[from] crate::judge::ruleset::load::LoadError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Waivers(#[from] crate::judge::waivers::WaiverError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Client(#[from] crate::collect::http::ClientError),
    #[error("nothing could be collected from {target}: {cause}")]
    #[diagnostic(code(ripcord::nothing_collected))]
    NothingCollected {
        target: String,
        cause: String,
        #[help]
        help: Option<String>,
    },
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>, help: Option<&str>) -> Self {
        Self::Usage(Usage::new(message, help))
    }
}

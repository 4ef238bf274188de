//! Why ripcord could not do its job (exit 2). Failing rules are report data, not errors.

use crate::facts::bundle::BundleError;
use crate::ruleset::load::LoadError;

/// Every way a command can fail before it has a report to give.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{0}")]
    #[diagnostic(code(ripcord::usage))]
    Usage(String, #[help] Option<String>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rules(#[from] LoadError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Waivers(#[from] Box<crate::waivers::WaiverFileError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(#[from] Box<crate::fleet::inventory::InventoryError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Client(#[from] crate::http::ClientError),
    #[error("nothing could be collected from {target}: {cause}")]
    #[diagnostic(code(ripcord::nothing_collected))]
    NothingCollected {
        target: String,
        cause: String,
        #[help]
        help: Option<String>,
    },
    #[error("unknown rule {id:?}")]
    #[diagnostic(code(ripcord::rules::unknown))]
    UnknownRule {
        id: String,
        /// The closest rule id, when one is near.
        #[help]
        help: String,
    },
    #[error("cannot write output")]
    #[diagnostic(code(ripcord::io))]
    Io(#[from] std::io::Error),
    #[error("cannot start the async runtime")]
    #[diagnostic(code(ripcord::runtime))]
    Runtime(#[source] std::io::Error),
}

impl From<crate::product::Usage> for Error {
    fn from(u: crate::product::Usage) -> Self {
        Self::Usage(u.message, u.help)
    }
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>, help: Option<&str>) -> Self {
        Self::Usage(message.into(), help.map(str::to_string))
    }
}

//! Why ripcord could not do its job (exit 2), each layer's error as it said it. Failing rules
//! are report data, not errors.

use crate::base::usage::Usage;

/// Every way a command can fail before it has a report to give.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] Usage),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Run(#[from] crate::run::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Fleet(#[from] crate::fleet::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Rules(#[from] crate::judge::ruleset::load::LoadError),
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

impl Error {
    pub(crate) fn usage(message: impl Into<String>, help: Option<&str>) -> Self {
        Self::Usage(Usage::new(message, help))
    }
}

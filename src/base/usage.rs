//! What every layer says when what it was given cannot be used (a flag, a file, a value):
//! the message in its own terms and what to do instead. Exit 2, shown as the `ripcord::usage`
//! diagnostic; each layer's error type holds it as one of its kinds.

/// Something ripcord was given that it cannot use, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(ripcord::usage))]
pub struct Usage {
    pub message: String,
    #[help]
    pub help: Option<String>,
}

impl Usage {
    pub(crate) fn new(message: impl Into<String>, help: Option<&str>) -> Self {
        Self {
            message: message.into(),
            help: help.map(str::to_string),
        }
    }
}

//! Why a fleet run could not give its report (exit 2): the inventory, the flags, the rules,
//! waivers, baseline or shard reports, or an output. One target's failure is not one of
//! these: it is that target's `error` in the report.

use crate::base::usage::Usage;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Usage(#[from] Usage),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Inventory(#[from] Box<super::inventory::InventoryError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Run(#[from] crate::run::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Waivers(#[from] crate::judge::waivers::WaiverError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Output(#[from] crate::output::OutputError),
}

impl Error {
    pub(crate) fn usage(message: impl Into<String>, help: Option<&str>) -> Self {
        Self::Usage(Usage::new(message, help))
    }
}

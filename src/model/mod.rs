//! Contracts: the facts bundle, the plan, the upgrade under judgement and the report types.
//! Plain data (serde, schemars), judged and rendered by the layers above.

pub(crate) mod causes;
pub(crate) mod facts;
pub(crate) mod names;
pub(crate) mod plan;
pub mod report;
pub(crate) mod upgrade;

//! Facts: the typed model, the bundle file, and what is derived from them.

pub mod bundle;
pub mod derive;
pub mod ghes;
mod model;
pub mod sample;

pub use model::*;

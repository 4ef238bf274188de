//! Basics every layer uses and that use nothing of ripcord's: versions, files, bounded memory
//! and collections, text made safe to show, credentials and their redaction.

pub(crate) mod bounded;
pub(crate) mod de;
pub mod file_problem;
pub(crate) mod files;
pub mod memory;
pub mod named;
pub(crate) mod secrets;
pub(crate) mod text;
pub mod usage;
pub mod version;

//! Rules as data: loading, expressions, the function library.
pub mod expr;
pub mod functions;

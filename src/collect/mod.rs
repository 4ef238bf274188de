//! Talking to servers, GET and HEAD only: the one read-only client, one typed GET, bounded
//! streaming bodies and lenient wire types.

pub(crate) mod body;
pub(crate) mod fetch;
pub(crate) mod http;
pub(crate) mod wire;

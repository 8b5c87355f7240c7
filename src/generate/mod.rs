//! From a spec to a plan: the template context, the templates and their rendering, the
//! migration SQL, rustfmt, and the difference between two specs (`change module`). Touches
//! the disk only to read templates and to run rustfmt on a scratch copy.

pub mod context;
pub mod ddl;
pub mod digest;
pub mod format;
pub mod link_context;
pub mod plan;
pub mod render;
pub mod spec_diff;
pub mod template_codec;

//! A plan meets the disk: comparing it with the tree, asking about or refusing conflicts,
//! writing all or nothing, recording what was generated in the manifest, merging hand edits
//! with newer output, and telling the user what happened.

pub mod apply;
pub mod lifecycle;
pub mod manifest;
pub mod merge;
pub mod report;
pub mod stage;

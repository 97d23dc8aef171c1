//! OVF hardware → suggested Glance image properties and flavor shape, each with its reason.

use serde::Serialize;

/// Suggested Glance properties and flavor for a VM.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Suggestion {}

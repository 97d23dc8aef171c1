//! The `STAGING` R2 bucket binding, shared by the staged uploads (`staged`) and the records of
//! the uploads that sweep tracks (`reaper`): its own module, so neither imports the other for it.

use worker::{Bucket, Env};

const BINDING: &str = "STAGING";

/// The staging bucket, when the deployment binds one.
pub fn staging(env: &Env) -> Option<Bucket> {
    env.bucket(BINDING).ok()
}

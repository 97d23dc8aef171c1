//! Guest paths: normalising what a user or a config file names, and following symbolic links
//! for readers that do not (`lamxfs`), within one file system and a bounded number of hops.

use crate::error::{Error, Result};

/// Links followed at most in one lookup (Linux's own limit).
const MAX_LINKS: usize = 40;

/// `path` as an absolute path without `.`, `..` or repeated slashes (`..` stops at the root).
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What one component turned out to be.
pub enum Step {
    Real,
    Missing,
    /// A symbolic link with this target.
    Link(String),
}

/// `path` with every link in it resolved, asking `look` about each prefix (already
/// normalised); None when some component does not exist.
pub fn follow(path: &str, mut look: impl FnMut(&str) -> Result<Step>) -> Result<Option<String>> {
    let mut todo: Vec<String> = normalise(path).split('/').filter(|c| !c.is_empty()).rev().map(String::from).collect();
    let mut done = String::new();
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        let next = normalise(&format!("{done}/{c}"));
        match look(&next)? {
            Step::Real => done = if next == "/" { String::new() } else { next },
            Step::Missing => return Ok(None),
            Step::Link(target) => {
                hops += 1;
                if hops > MAX_LINKS {
                    return Err(Error::corrupt(path, 0, format!("more than {MAX_LINKS} symbolic links")));
                }
                if target.starts_with('/') {
                    done.clear();
                }
                todo.extend(target.split('/').filter(|c| !c.is_empty()).rev().map(String::from));
                // `..` in a target climbs from where the link is.
                let mut rest: Vec<String> = Vec::new();
                while let Some(t) = todo.pop() {
                    match t.as_str() {
                        "." => {}
                        ".." => done = normalise(&format!("{done}/..")).trim_end_matches('/').to_string(),
                        _ => {
                            rest.push(t);
                            break;
                        }
                    }
                }
                todo.extend(rest);
            }
        }
    }
    Ok(Some(if done.is_empty() { "/".into() } else { done }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_follows_links() {
        assert_eq!(normalise("a//b/./../c/"), "/a/c");
        assert_eq!(normalise("/../.."), "/");
        let links = |p: &str| {
            Ok(match p {
                "/lib" => Step::Link("usr/lib".into()),
                "/etc/os-release" => Step::Link("../usr/lib/os-release".into()),
                "/loop" => Step::Link("/loop".into()),
                "/usr" | "/usr/lib" | "/usr/lib/os-release" | "/etc" | "/usr/lib/modules" => Step::Real,
                _ => Step::Missing,
            })
        };
        assert_eq!(follow("/lib/modules", links).unwrap().as_deref(), Some("/usr/lib/modules"));
        assert_eq!(follow("/etc/os-release", links).unwrap().as_deref(), Some("/usr/lib/os-release"));
        assert_eq!(follow("/nope", links).unwrap(), None);
        assert!(follow("/loop", links).is_err());
    }
}

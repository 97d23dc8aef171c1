//! The crates go one way: no import cycle between the modules of the converter core or of the
//! edge worker. Read from the source text (`crate::…` and `super::…` paths outside the unit-test
//! modules), so it needs no extra tool: `cargo test -p stackferry --test module_graph` shows it,
//! and prints every module's imports with `-- --nocapture`.
//!
//! A module and its own ancestors or descendants (a `mod.rs` and its children) may name each
//! other; that is how a folder module re-exports its parts, not a cycle between rooms.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path ("vmdk::stream") → source file, for every `.rs` under `src` but `bin/`.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(src).unwrap();
            if path.is_dir() {
                if rel != Path::new("bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let mut parts: Vec<String> =
                rel.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                parts.pop();
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The longest module path that `path` starts with.
fn resolve<'a>(names: &'a BTreeSet<String>, path: &str) -> Option<&'a String> {
    let segs: Vec<&str> = path.split("::").collect();
    (1..=segs.len()).rev().find_map(|i| names.get(&segs[..i].join("::")))
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.is_empty() || b.is_empty() || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

/// The paths a source text names after `prefix` (`crate::a::b`, `crate::a::{b, c::d}`).
fn named_paths(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
        let base = rest[..end].trim_end_matches(':');
        if rest[end..].starts_with('{') && (end == 0 || rest[..end].ends_with("::")) {
            let close = rest[end..].find('}').map_or(rest.len(), |c| end + c);
            for item in rest[end + 1..close].split(',') {
                let item = item.split_whitespace().next().unwrap_or("");
                if !item.is_empty() && item != "self" {
                    out.push(if base.is_empty() { item.to_string() } else { format!("{base}::{item}") });
                }
            }
        }
        out.push(base.to_string());
    }
    out
}

/// Module → the modules it imports (outside its own ancestry).
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let names: BTreeSet<String> = mods.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    for (m, file) in &mods {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests sit at the end of a file and may reach anywhere.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets: Vec<String> = named_paths(text, "crate::");
        targets.extend(named_paths(text, "super::").into_iter().map(|s| {
            if parent.is_empty() {
                s
            } else {
                format!("{parent}::{s}")
            }
        }));
        let set: BTreeSet<String> =
            targets.iter().filter_map(|t| resolve(&names, t)).filter(|r| !related(m, r)).cloned().collect();
        edges.insert(m.clone(), set);
    }
    edges
}

/// Strongly connected sets of two or more modules (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        for w in &t.edges[v] {
            let w = w.as_str();
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.stack.contains(&w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let at = t.stack.iter().rposition(|x| *x == v).unwrap();
            let comp: Vec<String> = t.stack.drain(at..).map(str::to_string).collect();
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), out: Vec::new() };
    for v in edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn assert_one_way(src: &Path) {
    let edges = graph(src);
    for (m, to) in &edges {
        println!("{m} -> {}", to.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    let found = cycles(&edges);
    assert!(found.is_empty(), "import cycles in {}: {found:?}", src.display());
}

#[test]
fn converter_core_has_no_import_cycle() {
    assert_one_way(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
}

#[test]
fn edge_worker_has_no_import_cycle() {
    assert_one_way(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge-worker/src"));
}

/// The check itself finds a cycle and ignores a module's own children.
#[test]
fn a_planted_cycle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir(src.join("fmt")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod a; pub mod b; pub mod fmt;").unwrap();
    std::fs::write(src.join("a.rs"), "use crate::b::thing;\nuse crate::fmt::{part::X, self};").unwrap();
    std::fs::write(src.join("b.rs"), "use crate::{error};\nfn f() { crate::a::g() }").unwrap();
    std::fs::write(src.join("fmt/mod.rs"), "pub mod part; pub use part::X;").unwrap();
    std::fs::write(src.join("fmt/part.rs"), "use super::super::a;\nuse crate::fmt::Y;").unwrap();
    let edges = graph(src);
    assert_eq!(edges["a"], ["b", "fmt", "fmt::part"].iter().map(|s| s.to_string()).collect());
    assert!(edges["fmt"].is_empty(), "a folder module naming its child is no edge: {:?}", edges["fmt"]);
    assert_eq!(cycles(&edges), vec![vec!["a".to_string(), "b".to_string()]]);
}

//! The map of the house kept true: every path docs/ARCHITECTURE.md and the crates' `lib.rs`
//! name exists, each crate's dependencies keep the rule its `lib.rs` states (read from
//! `cargo metadata`, so a dependency added against the rule fails here, not in review), and
//! no source file grows past 600 lines before its tests.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every file and folder of the repository, as paths from its root ("hub/src/http/"), without
/// what builds and tools leave there.
fn every_path() -> BTreeSet<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == "target" || name == "node_modules" {
                continue;
            }
            let path = format!("{prefix}{name}");
            if entry.file_type().unwrap().is_dir() {
                out.insert(format!("{path}/"));
                walk(&entry.path(), &format!("{path}/"), out);
            } else {
                out.insert(path);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&root(), "", &mut out);
    out
}

/// The names in backticks that look like paths: with a slash, or a Rust file's name (a
/// configuration file's name, `hub.toml`, is a concept, not a file here).
fn cited_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|t| !t.contains(char::is_whitespace) && !t.contains("::"))
        .filter(|t| !t.starts_with('/') && !t.contains('{') && !t.contains('='))
        // `NAME/tests.rs`: a pattern, its placeholder in capitals.
        .filter(|t| !t.contains("NAME"))
        .filter(|t| t.contains('/') || t.ends_with(".rs"))
        .map(str::to_owned)
        .collect()
}

/// Whether `cited` names something in the repository: a path from its root, or the end of one
/// (a crate's rows name files from that crate's `src/`); `*` stands for any characters in its
/// last part (`retinaface*.rs`, `align*`).
fn exists(cited: &str, paths: &BTreeSet<String>) -> bool {
    let matches = |path: &str| match cited.split_once('*') {
        None => path == cited || path.ends_with(&format!("/{cited}")),
        Some((head, tail)) => {
            let name = path.trim_end_matches('/');
            let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
            let (in_dir, start) = head.rsplit_once('/').unwrap_or(("", head));
            (in_dir.is_empty() || dir == in_dir || dir.ends_with(&format!("/{in_dir}")))
                && file.starts_with(start)
                && file.len() >= start.len() + tail.len()
                && file.ends_with(tail)
        }
    };
    paths.iter().any(|p| matches(p))
}

#[test]
fn every_path_the_map_and_the_crates_name_exists() {
    let paths = every_path();
    let mut documents = vec!["docs/ARCHITECTURE.md".to_owned()];
    documents.extend(
        paths
            .iter()
            .filter(|p| p.ends_with("/src/lib.rs") && p.matches('/').count() == 2)
            .cloned(),
    );
    let mut missing = Vec::new();
    for doc in &documents {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        let text: String = match doc.ends_with(".rs") {
            // A crate's doc: its `//!` lines.
            true => text
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("//!"))
                .collect::<Vec<_>>()
                .join("\n"),
            false => text,
        };
        for cited in cited_paths(&text) {
            if !exists(&cited, &paths) {
                missing.push(format!("{doc}: `{cited}`"));
            }
        }
    }
    assert!(
        documents.len() > 8,
        "the crates' lib.rs were found: {documents:?}"
    );
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "named but not in the repository"
    );
}

/// What each crate's `lib.rs` says it must never depend on (normal dependencies, optional
/// ones included: a feature is still the crate's dependency).
const FORBIDDEN: [(&str, &[&str]); 5] = [
    (
        "rollcall-shared",
        &["tokio", "warp", "hyper", "rumqttc", "postgres", "reqwest"],
    ),
    (
        "rollcall-models",
        &["rumqttc", "rusqlite", "postgres", "warp", "hyper", "tokio"],
    ),
    (
        "rollcall-store",
        &[
            "rollcall-models",
            "rollcall-school",
            "rollcall-hub",
            "warp",
            "hyper",
            "rumqttc",
        ],
    ),
    (
        "rollcall-school",
        &[
            "rollcall-hub",
            "warp",
            "hyper",
            "rumqttc",
            "lettre",
            "reqwest",
            "rusqlite",
            "postgres",
        ],
    ),
    (
        "rollcall-runtime",
        &["rollcall-hub", "rollcall-edge", "warp", "rumqttc"],
    ),
];

#[test]
fn each_crate_depends_only_on_what_its_rule_allows() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let mut broken = Vec::new();
    for (krate, forbidden) in FORBIDDEN {
        let package = packages
            .iter()
            .find(|p| p["name"] == krate)
            .unwrap_or_else(|| panic!("{krate} in the workspace"));
        for dep in package["dependencies"].as_array().unwrap() {
            let normal = dep["kind"].is_null();
            let name = dep["name"].as_str().unwrap();
            if normal && forbidden.contains(&name) {
                broken.push(format!("{krate} depends on {name}"));
            }
        }
    }
    assert_eq!(
        broken,
        Vec::<String>::new(),
        "against the crates' own rules"
    );
}

#[test]
fn the_checks_find_what_they_look_for() {
    let paths: BTreeSet<String> = [
        "models/src/retinaface_net.rs",
        "hub/src/http/",
        "hub/src/prometheus.rs",
    ]
    .map(str::to_owned)
    .into();
    for found in ["retinaface*.rs", "http/", "prometheus.rs", "src/http/"] {
        assert!(exists(found, &paths), "{found}");
    }
    for gone in [
        "prometheus/",
        "wire/v5.rs",
        "store/sql/",
        "face*.rs",
        "ttp/",
    ] {
        assert!(!exists(gone, &paths), "{gone}");
    }
    assert_eq!(
        cited_paths("the `a.rs` and `b/` beside `Sql`, `x::y`, `GET /users`, `hub.toml`"),
        ["a.rs", "b/"]
    );
}

/// Most lines a product source file has before its tests; a schema's migrations, an
/// append-only history, are the exception.
const MOST_LINES: usize = 600;

#[test]
fn no_source_file_is_longer_than_the_rule_before_its_tests() {
    const CRATES: [&str; 7] = [
        "shared/", "models/", "runtime/", "store/", "school/", "hub/", "edge/",
    ];
    let long: Vec<String> = every_path()
        .into_iter()
        .filter(|p| CRATES.iter().any(|c| p.starts_with(&format!("{c}src/"))))
        .filter(|p| {
            p.ends_with(".rs") && !p.ends_with("/tests.rs") && !p.ends_with("migrations.rs")
        })
        .filter_map(|p| {
            let text = std::fs::read_to_string(root().join(&p)).unwrap();
            let before = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .count();
            (before > MOST_LINES).then(|| format!("{p}: {before} lines"))
        })
        .collect();
    assert_eq!(
        long,
        Vec::<String>::new(),
        "longer than {MOST_LINES} lines before their tests"
    );
}

/// Where SQL may be written: the store, opening and migrating a SQLite file (for both), and
/// the door unit's own database (its file, its outbox and its copy of the gallery).
const SQL_HOMES: [&str; 5] = [
    "store/",
    "runtime/src/sqlite.rs",
    "edge/src/daemon/db",
    "edge/src/daemon/deliver/outbox.rs",
    "edge/src/daemon/sync/gallery_store.rs",
];

/// Whether a line of Rust (not a comment) holds an SQL statement.
fn holds_sql(line: &str) -> bool {
    let code = line.trim_start();
    if code.starts_with("//") {
        return false;
    }
    [
        "SELECT ",
        "INSERT INTO ",
        "DELETE FROM ",
        "CREATE TABLE ",
        "ON CONFLICT",
    ]
    .iter()
    .any(|k| code.contains(k))
        || (code.contains("UPDATE ") && code.contains(" SET "))
}

#[test]
fn sql_is_written_only_in_the_store_and_the_door_units_database() {
    let found: Vec<String> = every_path()
        .into_iter()
        .filter(|p| p.ends_with(".rs") && p.contains("/src/") && !p.ends_with("/tests.rs"))
        .filter(|p| !p.starts_with("tests/") && !p.starts_with("fuzz/"))
        .filter(|p| !SQL_HOMES.iter().any(|home| p.starts_with(home)))
        .flat_map(|p| {
            let text = std::fs::read_to_string(root().join(&p)).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            // Up to the tests: a `#[cfg(test)]` over a `mod`, at any depth.
            let tests = lines.windows(2).position(|w| {
                w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod ")
            });
            lines[..tests.unwrap_or(lines.len())]
                .iter()
                .enumerate()
                .filter(|(_, l)| holds_sql(l))
                .map(|(i, l)| format!("{p}:{}: {}", i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(found, Vec::<String>::new(), "SQL outside the store");
}

//! The Helix configuration (`editors/helix/languages.toml`), which CI cannot
//! open in Helix itself (no package registry it installs from ships one):
//! its keys are the ones Helix reads, it starts `callassign lsp`, and its
//! file types claim the `.rules` files of a rules folder, never udev's or
//! polkit's. Neovim, Emacs and VS Code run for real in `.ci/editors`.

use crate::common::repo;

fn config() -> toml::Table {
    let text = std::fs::read_to_string(repo().join("editors/helix/languages.toml")).unwrap();
    text.parse().expect("languages.toml is TOML")
}

/// Helix's matching of a `glob` file type: a relative glob gets `*/` in
/// front, and (globset's default) `*` crosses `/`.
fn helix_matches(glob: &str, path: &str) -> bool {
    let glob = if glob.starts_with('/') || glob.starts_with('*') {
        glob.to_string()
    } else {
        format!("*/{glob}")
    };
    wildcard(glob.as_bytes(), path.as_bytes())
}

fn wildcard(glob: &[u8], text: &[u8]) -> bool {
    match glob.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| wildcard(rest, &text[skip..])),
        Some((byte, rest)) => text.first() == Some(byte) && wildcard(rest, &text[1..]),
    }
}

#[test]
fn helix_starts_the_language_server_for_the_callassign_language() {
    let config = config();
    let server = &config["language-server"]["callassign"];
    assert_eq!(server["command"].as_str(), Some("callassign"));
    assert_eq!(server["args"].as_array().unwrap()[0].as_str(), Some("lsp"));
    let languages = config["language"].as_array().unwrap();
    assert_eq!(languages.len(), 1);
    let language = &languages[0];
    assert_eq!(language["name"].as_str(), Some("callassign"));
    assert_eq!(language["comment-token"].as_str(), Some("#"));
    let servers: Vec<&str> = language["language-servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|server| server.as_str())
        .collect();
    assert_eq!(servers, ["callassign"]);
}

#[test]
fn helix_claims_rule_files_in_a_rules_folder_and_leaves_udev_and_polkit_alone() {
    let config = config();
    let file_types = config["language"].as_array().unwrap()[0]["file-types"]
        .as_array()
        .unwrap()
        .clone();
    // A bare extension ("rules") would claim every `.rules` file on the machine.
    assert!(
        file_types.iter().all(|file_type| file_type.is_table()),
        "only globs, never a bare extension: {file_types:?}"
    );
    let globs: Vec<&str> = file_types
        .iter()
        .map(|file_type| file_type["glob"].as_str().unwrap())
        .collect();
    let claimed = |path: &str| globs.iter().any(|glob| helix_matches(glob, path));
    for ours in [
        "/home/ana/acme/rules/hubspot.rules",
        "/home/ana/acme/rules/default.rules",
        "/srv/callassign/rules/zendesk.rules",
    ] {
        assert!(claimed(ours), "{ours} is not claimed by {globs:?}");
    }
    for theirs in [
        "/etc/udev/rules.d/99-usb.rules",
        "/lib/udev/rules.d/50-udev-default.rules",
        "/etc/polkit-1/rules.d/49-wheel.rules",
        "/usr/share/polkit-1/rules.d/org.freedesktop.rules",
        "/home/ana/acme/rules/hubspot.rules.bak",
    ] {
        assert!(!claimed(theirs), "{theirs} is claimed by {globs:?}");
    }
}

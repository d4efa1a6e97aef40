//! Hot reload: a change to any file a ruleset reads is served within two
//! seconds; a change that does not pass `check` is refused and the last
//! good version keeps serving; SIGHUP reloads at once.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::time::Duration;

use super::{connect, served_folder, Server};

const WITHIN: Duration = Duration::from_secs(2);
/// A call the fallback decides: the installer, if there is one.
const FALLBACK_CALL: &str = r#"{"id":"f-1","direction":"incoming","status":"missed"}"#;

fn serve_folder(dir: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["--rules", "rules", "--contexts", "contexts"];
    args.extend(extra);
    Server::start_in(dir, &args)
}

fn assignee(server: &Server, ruleset: &str) -> String {
    let answer = server.post_json(
        &format!("/v1/rulesets/{ruleset}/assign"),
        FALLBACK_CALL.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["assignee"].to_string()
}

/// Replaces a file as editors do: a new file renamed over the old one.
fn replace(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp~");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

fn context_with_installer(installer: &str) -> String {
    std::fs::read_to_string(crate::common::repo().join("examples/hubspot.context.yaml"))
        .unwrap()
        .replace("installer: hs-1", &format!("installer: {installer}"))
}

#[test]
fn an_edited_context_is_served_within_two_seconds() {
    let dir = served_folder();
    let context = dir.path().join("contexts/hubspot.yaml");
    assert!(std::fs::read_to_string(&context)
        .unwrap()
        .contains("installer: hs-1"));
    let server = serve_folder(dir.path(), &[]);
    let old = server.hash("hubspot").unwrap();
    assert!(assignee(&server, "hubspot").contains("hs-1"));

    // Written in place, as `>` does.
    std::fs::write(&context, context_with_installer("hs-2")).unwrap();
    let new = server.wait_for_new_hash("hubspot", Some(&old), WITHIN);
    assert!(assignee(&server, "hubspot").contains("hs-2"));
    server.wait_for_stderr(
        &format!("reloaded hubspot: {} → {}", &old[..12], &new[..12]),
        WITHIN,
    );
    assert_eq!(
        server.metric("callassign_reloads_total{ruleset=\"hubspot\",result=\"applied\"}"),
        Some(1.0)
    );
    assert_eq!(
        server.metric(&format!(
            "callassign_ruleset_info{{ruleset=\"hubspot\",hash=\"{new}\"}}"
        )),
        Some(1.0)
    );
    assert_eq!(
        server.metric(&format!(
            "callassign_ruleset_info{{ruleset=\"hubspot\",hash=\"{old}\"}}"
        )),
        None
    );
    let status = server.status();
    assert_eq!(status["rulesets"][0]["hash"], new.as_str());
    assert_eq!(status["rulesets"][0]["last_reload"]["result"], "applied");

    // Saved back as it was: the first version's hash again.
    replace(&context, &context_with_installer("hs-1"));
    assert_eq!(server.wait_for_new_hash("hubspot", Some(&new), WITHIN), old);
}

#[test]
fn an_edit_to_a_shared_base_reloads_every_ruleset_built_on_it() {
    let dir = served_folder();
    let context = std::fs::read_to_string(dir.path().join("contexts/hubspot.yaml")).unwrap();
    std::fs::write(dir.path().join("contexts/zendesk.yaml"), &context).unwrap();
    let server = serve_folder(dir.path(), &[]);
    let (hubspot, zendesk) = (
        server.hash("hubspot").unwrap(),
        server.hash("zendesk").unwrap(),
    );
    let default = dir.path().join("rules/default.rules");
    let text = std::fs::read_to_string(&default).unwrap();
    replace(
        &default,
        &format!("{text}\n# a comment changes the content, so the version\n"),
    );
    server.wait_for_new_hash("hubspot", Some(&hubspot), WITHIN);
    server.wait_for_new_hash("zendesk", Some(&zendesk), WITHIN);
}

#[test]
fn a_broken_edit_is_refused_and_the_last_good_version_keeps_serving() {
    let dir = served_folder();
    let server = serve_folder(dir.path(), &[]);
    let good = server.hash("hubspot").unwrap();
    let rules = dir.path().join("rules/hubspot.rules");
    let original = std::fs::read_to_string(&rules).unwrap();

    std::fs::write(
        &rules,
        "ruleset hubspot extends default\nstep last_step_agnet\n",
    )
    .unwrap();
    server.wait_for_stderr(
        "not reloading hubspot: `rules/hubspot.rules` has errors (1 error)",
        WITHIN,
    );
    let stderr = server.stderr();
    assert!(
        stderr.contains("callassign::unknown_step"),
        "the findings in check's words:\n{stderr}"
    );
    assert!(stderr.contains("keeps serving"), "{stderr}");
    let status = server.status();
    let hubspot = &status["rulesets"][0];
    assert_eq!(hubspot["hash"], good.as_str());
    assert_eq!(hubspot["last_reload"]["result"], "refused");
    assert_eq!(
        hubspot["last_reload"]["findings"][0]["code"],
        "callassign::unknown_step"
    );
    assert_eq!(
        hubspot["last_reload"]["findings"][0]["file"],
        "rules/hubspot.rules"
    );
    assert_eq!(
        server.metric("callassign_reloads_total{ruleset=\"hubspot\",result=\"refused\"}"),
        Some(1.0)
    );
    let answer = server.post_json("/v1/rulesets/hubspot/assign", FALLBACK_CALL.as_bytes());
    assert_eq!(
        answer.header("callassign-ruleset-hash"),
        Some(good.as_str())
    );

    // Bytes that are no text at all.
    std::fs::write(&rules, b"\xff\xfe\x00garbage").unwrap();
    server.wait_for_stderr("callassign::not_utf8", WITHIN);
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));

    // A refused context too.
    let context = dir.path().join("contexts/hubspot.yaml");
    std::fs::write(&rules, &original).unwrap();
    std::fs::write(&context, "integration: hubspot\nusers: 7\n").unwrap();
    server.wait_for_stderr("not reloading hubspot: `contexts/hubspot.yaml`", WITHIN);
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));
    let status = server.status();
    assert_eq!(
        status["rulesets"][0]["last_reload"]["findings"][0]["code"],
        "callassign::context_refused"
    );

    // Fixed: applied again (the same content as the good version).
    std::fs::copy(
        crate::common::repo().join("examples/hubspot.context.yaml"),
        &context,
    )
    .unwrap();
    let deadline = std::time::Instant::now() + WITHIN * 2;
    while server.status()["rulesets"][0]["last_reload"]["result"] != "applied" {
        assert!(std::time::Instant::now() < deadline, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));
    // stderr says so too: its last word on hubspot is not the error.
    server.wait_for_stderr(
        &format!("hubspot: back to the version served (hash {})", &good[..12]),
        WITHIN,
    );
}

#[test]
fn a_deleted_file_keeps_the_last_good_version_serving() {
    let dir = served_folder();
    let server = serve_folder(dir.path(), &[]);
    let good = server.hash("hubspot").unwrap();
    let rules = dir.path().join("rules/hubspot.rules");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::remove_file(&rules).unwrap();
    server.wait_for_stderr(
        "not reloading hubspot: cannot read `rules/hubspot.rules`",
        WITHIN,
    );
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));
    assert_eq!(
        server.status()["rulesets"][0]["last_reload"]["result"],
        "refused"
    );
    assert_eq!(
        assignee(&server, "hubspot"),
        r#"{"email":"admin@acme.com","id":"hs-1"}"#
    );

    std::fs::remove_file(dir.path().join("contexts/hubspot.yaml")).unwrap();
    std::fs::write(&rules, &text).unwrap();
    server.wait_for_stderr(
        "not reloading hubspot: `contexts/hubspot.yaml` does not exist",
        WITHIN * 2,
    );
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));
}

/// A rule file replaced by a link that leads nowhere (a loop), then
/// deleted: each state is reported in its turn, not the first one kept.
#[test]
fn a_link_that_leads_nowhere_then_a_deletion_are_each_reported() {
    use std::os::unix::fs::symlink;
    let dir = served_folder();
    let server = serve_folder(dir.path(), &[]);
    let good = server.hash("hubspot").unwrap();
    let rules = dir.path().join("rules/hubspot.rules");
    std::fs::remove_file(&rules).unwrap();
    symlink("loop.rules", &rules).unwrap();
    symlink("hubspot.rules", dir.path().join("rules/loop.rules")).unwrap();
    server.wait_for_stderr("symbolic links", WITHIN);
    let said = |server: &Server| server.stderr().matches("not reloading hubspot").count();
    assert_eq!(said(&server), 1, "{}", server.stderr());
    std::fs::remove_file(&rules).unwrap();
    let deadline = std::time::Instant::now() + WITHIN * 2;
    while said(&server) < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the deletion was never reported:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = server.status();
    let findings = status["rulesets"][0]["last_reload"]["findings"].to_string();
    assert!(!findings.contains("symbolic links"), "{findings}");
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));
}

#[test]
fn a_fifo_in_place_of_a_rule_file_is_refused_without_blocking() {
    let dir = served_folder();
    let context = std::fs::read_to_string(dir.path().join("contexts/hubspot.yaml")).unwrap();
    std::fs::write(dir.path().join("contexts/zendesk.yaml"), &context).unwrap();
    let server = serve_folder(dir.path(), &[]);
    let good = server.hash("hubspot").unwrap();
    let rules = dir.path().join("rules/hubspot.rules");
    std::fs::remove_file(&rules).unwrap();
    let path = std::ffi::CString::new(rules.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a valid C string.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
    server.wait_for_stderr("named pipe", WITHIN);
    assert_eq!(server.hash("hubspot").as_deref(), Some(good.as_str()));

    // The reloader was not stuck on the pipe: other changes still land.
    let zendesk = server.hash("zendesk").unwrap();
    std::fs::write(
        dir.path().join("contexts/zendesk.yaml"),
        context_with_installer("hs-2"),
    )
    .unwrap();
    server.wait_for_new_hash("zendesk", Some(&zendesk), WITHIN);
}

#[test]
fn a_context_grown_past_the_size_limit_is_refused() {
    let dir = served_folder();
    let server = serve_folder(dir.path(), &[]);
    let good = server.hash("hubspot").unwrap();
    let context = dir.path().join("contexts/hubspot.yaml");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&context)
        .unwrap();
    let comment = format!("#{}\n", "x".repeat(1023));
    // Grows in steps up to one byte past 64 MiB.
    let limit = 64 << 20;
    let mut size = file.metadata().unwrap().len() as usize;
    while size <= limit {
        let block = comment.repeat(4096);
        let take = block.len().min(limit + 1 - size).max(1);
        file.write_all(&block.as_bytes()[..take]).unwrap();
        size += take;
    }
    drop(file);
    server.wait_for_stderr("is larger than", WITHIN * 2);
    let status = server.status();
    assert_eq!(status["rulesets"][0]["last_reload"]["result"], "refused");
    // Every request meanwhile was answered by a whole version.
    assert_eq!(
        server
            .post_json("/v1/rulesets/hubspot/assign", FALLBACK_CALL.as_bytes())
            .status,
        200
    );
    assert!(server.hash("hubspot").is_some());
    let _ = good;
}

#[test]
fn a_new_rule_file_with_a_context_starts_being_served() {
    let dir = served_folder();
    let server = serve_folder(dir.path(), &[]);
    std::fs::write(
        dir.path().join("rules/team.rules"),
        "ruleset team extends default\nfallback unassigned\n",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + WITHIN;
    while !server.status()["not_served"]
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["name"] == "team")
    {
        assert!(std::time::Instant::now() < deadline, "{}", server.stderr());
        std::thread::sleep(Duration::from_millis(25));
    }
    server
        .post_json("/v1/rulesets/team/assign", FALLBACK_CALL.as_bytes())
        .error(404, "callassign::unknown_ruleset");

    let context = std::fs::read_to_string(dir.path().join("contexts/hubspot.yaml")).unwrap();
    std::fs::write(dir.path().join("contexts/team.yaml"), context).unwrap();
    server.wait_for_new_hash("team", None, WITHIN);
    assert_eq!(assignee(&server, "team"), "null");
    server.wait_for_stderr(
        "serving team from rules/team.rules and contexts/team.yaml",
        WITHIN,
    );
    assert!(!server.status()["not_served"]
        .as_array()
        .unwrap()
        .iter()
        .any(|entry| entry["name"] == "team"));
}

#[test]
fn sighup_reloads_at_once() {
    let dir = served_folder();
    let server = serve_folder(dir.path(), &["--watch-interval", "1h"]);
    let old = server.hash("hubspot").unwrap();
    std::fs::write(
        dir.path().join("contexts/hubspot.yaml"),
        context_with_installer("hs-2"),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.hash("hubspot").as_deref(),
        Some(old.as_str()),
        "not looked at before SIGHUP"
    );
    server.signal(libc::SIGHUP);
    server.wait_for_new_hash("hubspot", Some(&old), Duration::from_secs(1));
    server.wait_for_stderr("SIGHUP: reloading every ruleset", WITHIN);
}

#[test]
fn a_stream_finishes_on_the_version_it_started_with() {
    let dir = served_folder();
    let server = serve_folder(dir.path(), &[]);
    let old = server.hash("hubspot").unwrap();
    let mut stream = connect(server.addr);
    stream
        .write_all(b"POST /v1/rulesets/hubspot/assign HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        .unwrap();
    let line = format!("{FALLBACK_CALL}\n");
    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
    stream.write_all(chunk.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut field = String::new();
        reader.read_line(&mut field).unwrap();
        if field == "\r\n" {
            break;
        }
        head.push_str(&field);
    }
    assert!(
        head.contains(&format!("callassign-ruleset-hash: {old}")),
        "{head}"
    );

    std::fs::write(
        dir.path().join("contexts/hubspot.yaml"),
        context_with_installer("hs-2"),
    )
    .unwrap();
    server.wait_for_new_hash("hubspot", Some(&old), WITHIN);
    assert!(assignee(&server, "hubspot").contains("hs-2"));

    stream.write_all(chunk.as_bytes()).unwrap();
    stream.write_all(b"0\r\n\r\n").unwrap();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    let answers: Vec<&str> = rest.lines().filter(|line| line.starts_with('{')).collect();
    assert_eq!(answers.len(), 2, "{rest}");
    for answer in answers {
        assert!(
            answer.contains("\"id\":\"hs-1\""),
            "decided by the version it started on: {answer}"
        );
    }
}

/// Lays out `files` as the kubelet mounts a ConfigMap: each file a link
/// into `..data`, itself a link to a timestamped folder, swapped whole.
fn configmap(folder: &Path, version: &str, files: &[(&str, String)]) {
    use std::os::unix::fs::symlink;
    let target = folder.join(format!("..{version}"));
    std::fs::create_dir_all(&target).unwrap();
    for (name, text) in files {
        std::fs::write(target.join(name), text).unwrap();
        let link = folder.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), &link).unwrap();
        }
    }
    let staged = folder.join("..data_tmp");
    symlink(format!("..{version}"), &staged).unwrap();
    std::fs::rename(&staged, folder.join("..data")).unwrap();
}

#[test]
fn a_configmap_swap_is_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, contexts) = (dir.path().join("rules"), dir.path().join("contexts"));
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&contexts).unwrap();
    let shipped = |name: &str| std::fs::read_to_string(crate::common::repo().join(name)).unwrap();
    let rule_files = |hubspot: &str| {
        vec![
            ("default.rules", shipped("rules/default.rules")),
            ("hubspot.rules", hubspot.to_string()),
        ]
    };
    configmap(
        &rules,
        "v1",
        &rule_files("ruleset hubspot extends default\n"),
    );
    configmap(
        &contexts,
        "v1",
        &[("hubspot.yaml", shipped("examples/hubspot.context.yaml"))],
    );
    let server = serve_folder(dir.path(), &[]);
    let old = server.hash("hubspot").unwrap();
    assert!(assignee(&server, "hubspot").contains("hs-1"));

    configmap(
        &rules,
        "v2",
        &rule_files("ruleset hubspot extends default\nfallback unassigned\n"),
    );
    let new = server.wait_for_new_hash("hubspot", Some(&old), WITHIN);
    assert_eq!(assignee(&server, "hubspot"), "null");
    configmap(
        &contexts,
        "v2",
        &[("hubspot.yaml", context_with_installer("hs-2"))],
    );
    server.wait_for_new_hash("hubspot", Some(&new), WITHIN);
}

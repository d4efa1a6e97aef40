//! The container build and the Kubernetes manifests in `deploy/`: what
//! they hold must be what the repository ships. (Their shape is checked
//! against Kubernetes' schemas and hadolint by `.ci/deploy`.)

use std::collections::BTreeMap;
use std::fs;

use serde::Deserialize;
use serde_yaml::Value;

use crate::common::repo;

fn manifest(name: &str) -> Vec<Value> {
    let text = fs::read_to_string(repo().join("deploy/kubernetes").join(name)).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|document| Value::deserialize(document).unwrap())
        .collect()
}

fn config_map_data(name: &str) -> BTreeMap<String, String> {
    let documents = manifest(name);
    serde_yaml::from_value(documents[0]["data"].clone()).unwrap()
}

#[test]
fn the_rules_config_map_holds_every_shipped_rule_file_exactly() {
    let data = config_map_data("configmap-rules.yaml");
    let mut shipped = BTreeMap::new();
    for entry in fs::read_dir(repo().join("rules")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "rules") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            shipped.insert(name, fs::read_to_string(&path).unwrap());
        }
    }
    assert!(
        data == shipped,
        "deploy/kubernetes/configmap-rules.yaml is stale: run `python3 deploy/kubernetes/generate-configmaps.py`"
    );
}

#[test]
fn the_contexts_config_map_holds_the_example_context_under_its_ruleset_name() {
    let data = config_map_data("configmap-contexts.yaml");
    let example = fs::read_to_string(repo().join("examples/hubspot.context.yaml")).unwrap();
    assert!(
        data.get("hubspot.yaml") == Some(&example) && data.len() == 1,
        "deploy/kubernetes/configmap-contexts.yaml is stale: run `python3 deploy/kubernetes/generate-configmaps.py`"
    );
}

#[test]
fn the_deployment_probes_the_health_routes_and_mounts_what_it_serves() {
    let deployment = &manifest("deployment.yaml")[0];
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    let args: Vec<String> = serde_yaml::from_value(container["args"].clone()).unwrap();
    let after = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .map(|at| args[at + 1].clone())
    };
    let mounts: Vec<String> = container["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|mount| mount["mountPath"].as_str().unwrap().to_string())
        .collect();
    for (flag, mounted) in [
        ("--rules", "/etc/callassign/rules"),
        ("--contexts", "/etc/callassign/contexts"),
    ] {
        assert_eq!(after(flag).as_deref(), Some(mounted), "{flag}");
        assert!(
            mounts.iter().any(|mount| mount == mounted),
            "{mounted} is mounted"
        );
    }
    let token = after("--token-file").unwrap();
    assert!(
        mounts.iter().any(|mount| token.starts_with(mount.as_str())),
        "the token is mounted"
    );
    // Not root, nothing writable, no privileges.
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );
}

#[test]
fn the_container_runs_the_service_as_a_user_without_privileges() {
    let dockerfile = fs::read_to_string(repo().join("deploy/Dockerfile")).unwrap();
    let stages = dockerfile
        .lines()
        .filter(|line| line.starts_with("FROM "))
        .count();
    assert_eq!(stages, 2, "a build stage and a runtime stage");
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("a USER line");
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    assert!(dockerfile.contains("cargo build --release --locked"));
}

/// Every flag the Deployment and the container pass is one `serve` takes.
#[test]
fn the_deployment_and_the_container_pass_flags_serve_takes() {
    let help = crate::common::callassign(&["serve", "--help"]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    let deployment = &manifest("deployment.yaml")[0];
    let args: Vec<String> = serde_yaml::from_value(
        deployment["spec"]["template"]["spec"]["containers"][0]["args"].clone(),
    )
    .unwrap();
    let dockerfile = fs::read_to_string(repo().join("deploy/Dockerfile")).unwrap();
    let cmd = dockerfile
        .lines()
        .find_map(|line| line.strip_prefix("CMD "))
        .expect("a CMD line");
    let cmd: Vec<String> = serde_json::from_str(cmd).unwrap();
    for args in [&args, &cmd] {
        assert_eq!(args[0], "serve");
        for flag in args.iter().filter(|arg| arg.starts_with("--")) {
            assert!(
                help.stdout.contains(&format!("{flag} <")),
                "`serve` takes no {flag}"
            );
        }
    }
}

//! The deployment files, checked offline: the compose file and the Kubernetes
//! manifests parse and hold what docs/deploy.md promises, cadre accepts their
//! configurations, and promtool accepts their Prometheus configurations.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_yaml_ng::Value;

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{path:?}: {e}")))
        .collect()
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| &v[*k])
}

/// cadre loads the configuration (unknown keys and broken rules are refused).
fn cadre_accepts(config_text: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("cadre.toml");
    std::fs::write(&f, config_text).unwrap();
    let out = run(
        cadre(&tmp.path().join("data"))
            .arg("--config")
            .arg(&f)
            .arg("config"),
        0,
    );
    let printed: toml::Value = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let given: toml::Value = toml::from_str(config_text).unwrap();
    for (table, keys) in given.as_table().unwrap() {
        for (k, v) in keys.as_table().unwrap() {
            assert_eq!(&printed[table][k], v, "{table}.{k} in force");
        }
    }
}

/// `promtool check config` on a Prometheus configuration whose token file is given.
fn promtool_accepts(config_text: &str, token_path: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("token");
    std::fs::write(&token, "t").unwrap();
    let f = tmp.path().join("prometheus.yml");
    std::fs::write(&f, config_text.replace(token_path, token.to_str().unwrap())).unwrap();
    let out = Command::new("promtool")
        .args(["check", "config"])
        .arg(&f)
        .output()
        .expect("promtool on the PATH (bash .ci/run installs Debian's prometheus)");
    assert!(
        out.status.success(),
        "promtool refuses {config_text}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn compose_file_runs_the_five_services_with_pinned_images_and_files_that_exist() {
    let deploy = root().join("deploy");
    let compose = &yaml_docs(&deploy.join("compose.yaml"))[0];
    let services = compose["services"].as_mapping().unwrap();
    let names: Vec<&str> = services.keys().map(|k| k.as_str().unwrap()).collect();
    for want in ["kafka", "clickhouse", "cadre", "prometheus", "grafana"] {
        assert!(names.contains(&want), "service {want} in {names:?}");
    }
    for (name, svc) in services {
        let image = svc["image"]
            .as_str()
            .unwrap_or_else(|| panic!("{name:?} has an image"));
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
        assert!(!tag.is_empty() && tag != "latest", "{name:?}: pin {image}");
        for m in svc["volumes"].as_sequence().into_iter().flatten() {
            let src = m.as_str().unwrap().split(':').next().unwrap();
            if src.starts_with('.') && !src.contains("secrets/") {
                assert!(
                    deploy.join(src).exists(),
                    "{name:?} mounts {src}, which exists"
                );
            }
        }
    }
    let cmd: Vec<&str> = s(compose, &["services", "cadre", "command"])
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for flag in ["serve", "--kafka", "--clickhouse", "--config"] {
        assert!(cmd.contains(&flag), "cadre runs with {flag}: {cmd:?}");
    }
    assert!(deploy.join("Dockerfile").exists());
    let grafana_env = s(compose, &["services", "grafana", "environment"]);
    assert_eq!(
        grafana_env["GF_INSTALL_PLUGINS"],
        "grafana-clickhouse-datasource"
    );
    cadre_accepts(&std::fs::read_to_string(deploy.join("cadre.toml")).unwrap());
    promtool_accepts(
        &std::fs::read_to_string(deploy.join("prometheus.yml")).unwrap(),
        "/etc/prometheus/secrets/prometheus.token",
    );
}

#[test]
fn kubernetes_manifests_are_complete_and_their_configurations_load() {
    let k8s = root().join("deploy/k8s");
    let mut docs = yaml_docs(&k8s.join("cadre.yaml"));
    docs.extend(yaml_docs(&k8s.join("prometheus-scrape.yaml")));
    for d in &docs {
        assert!(
            d["apiVersion"].is_string() && d["kind"].is_string(),
            "{d:?}"
        );
        assert!(s(d, &["metadata", "name"]).is_string());
    }
    fn of_kind<'a>(docs: &'a [Value], k: &'a str) -> impl Iterator<Item = &'a Value> {
        docs.iter().filter(move |d| d["kind"] == k)
    }
    let kind = |k: &'static str| of_kind(&docs, k);
    let sets: Vec<&Value> = kind("StatefulSet").collect();
    assert_eq!(
        sets.len(),
        2,
        "instances sharing partitions, and the succession writer"
    );
    for set in &sets {
        let name = s(set, &["metadata", "name"]).as_str().unwrap();
        let spec = s(set, &["spec", "template", "spec"]);
        let labels = s(set, &["spec", "template", "metadata", "labels"]);
        let selector = s(set, &["spec", "selector", "matchLabels"]);
        for (k, v) in selector.as_mapping().unwrap() {
            assert_eq!(
                &labels[k.as_str().unwrap()],
                v,
                "{name}: selector matches the pods"
            );
        }
        for c in spec["containers"].as_sequence().unwrap() {
            assert_eq!(
                s(c, &["readinessProbe", "httpGet", "path"]),
                "/health",
                "{name}"
            );
            assert!(
                s(c, &["resources", "limits", "memory"]).is_string(),
                "{name} limits memory"
            );
            let args: Vec<&str> = c["args"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert!(
                args.contains(&"--kafka") && args.contains(&"--clickhouse"),
                "{name}"
            );
            let config = args[args.iter().position(|a| *a == "--config").unwrap() + 1];
            let file = config.rsplit('/').next().unwrap();
            let map = kind("ConfigMap")
                .find(|m| !m["data"][file].is_null())
                .unwrap_or_else(|| panic!("{name}: a ConfigMap holds {file}"));
            cadre_accepts(map["data"][file].as_str().unwrap());
        }
    }
    // only the succession writer writes succession, and it writes no partials
    let cm = kind("ConfigMap")
        .find(|m| !m["data"]["cadre.toml"].is_null())
        .unwrap();
    let shared: toml::Value = toml::from_str(cm["data"]["cadre.toml"].as_str().unwrap()).unwrap();
    let succ: toml::Value =
        toml::from_str(cm["data"]["cadre-succession.toml"].as_str().unwrap()).unwrap();
    assert_eq!(shared["clickhouse"]["succession"].as_bool(), Some(false));
    assert_eq!(succ["clickhouse"]["partials"].as_bool(), Some(false));
    assert_ne!(
        shared["kafka"]["group"], succ["kafka"]["group"],
        "the succession writer reads every partition"
    );
    assert_eq!(kind("Service").count(), 1);
    let prom = kind("ConfigMap")
        .find(|m| !m["data"]["prometheus.yml"].is_null())
        .unwrap();
    promtool_accepts(
        prom["data"]["prometheus.yml"].as_str().unwrap(),
        "/etc/prometheus/secrets/cadre/prometheus-token",
    );
}

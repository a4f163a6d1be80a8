//! The dashboard, rendered by a real headless Chromium, shows the gaps the API computes.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",
    "--window-size=1400,1000",
];

fn chromium(profile: &Path, args: &[&str], url: &str) -> String {
    let out = Command::new("chromium")
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium is required for this test: apt-get install chromium (bash .ci/run does)");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `attr` on the first heatmap cell for (unit, competency).
fn cell_gap(dom: &str, unit: &str, competency: &str) -> Option<f64> {
    let key = format!("data-unit=\"{unit}\" data-competency=\"{competency}\" data-gap=\"");
    let start = dom.find(&key)? + key.len();
    let end = start + dom[start..].find('"')?;
    dom[start..end].parse().ok()
}

#[test]
fn dashboard_renders_the_heatmap_and_drills_down() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 400, 5);
    let server = Server::start(&data, "t");
    let profile = tmp.path().join("chromium");

    // without signing in the page sends the browser to the login form
    let dom = chromium(&profile, &["--dump-dom"], &server.url("/"));
    assert!(dom.contains("Access token"), "the login form");
    // signing in keeps the token in a cookie of this browser profile
    chromium(
        &profile,
        &["--dump-dom"],
        &server.url(&format!("/login?token={}", server.admin)),
    );

    // the first view: departments of the single root
    let dom = chromium(&profile, &["--dump-dom"], &server.url("/"));
    let api = server.get_json("/v1/gaps/heatmap");
    assert_eq!(api["parent"], "org");
    let rows = api["rows"].as_array().unwrap();
    assert!(rows.len() >= 2, "several departments: {rows:?}");
    for r in rows {
        let name = r["unit_name"].as_str().unwrap();
        assert!(dom.contains(name), "department {name} is on the page");
    }
    assert!(
        dom.contains("Demo County Council"),
        "breadcrumb names the root"
    );
    let org_headcount = api["unit"]["headcount"].as_u64().unwrap();
    assert!(
        dom.contains(&format!("data-metric=\"Headcount\">{org_headcount}<")),
        "the headcount card shows {org_headcount}"
    );
    let cells = api["cells"].as_array().unwrap();
    assert!(!cells.is_empty());
    let mut checked = 0;
    for c in cells.iter().filter(|c| !c["mean_gap"].is_null()) {
        let unit = c["unit_id"].as_str().unwrap();
        let comp = c["competency_id"].as_str().unwrap();
        let shown =
            cell_gap(&dom, unit, comp).unwrap_or_else(|| panic!("no cell for {unit} × {comp}"));
        assert!(
            (shown - c["mean_gap"].as_f64().unwrap()).abs() < 1e-9,
            "{unit} × {comp}"
        );
        checked += 1;
    }
    assert!(checked >= 10, "checked {checked} cells");

    // drill down into the first department: its sections, with their own numbers
    let dept = rows[0]["unit_id"].as_str().unwrap();
    let dom = chromium(
        &profile,
        &["--dump-dom"],
        &server.url(&format!("/?unit={dept}")),
    );
    let api = server.get_json(&format!("/v1/gaps/heatmap?parent={dept}"));
    let sections: Vec<&Value> = api["rows"].as_array().unwrap().iter().collect();
    assert!(!sections.is_empty(), "{dept} has sections");
    for s in &sections {
        assert!(dom.contains(s["unit_name"].as_str().unwrap()));
    }
    let c = api["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| !c["mean_gap"].is_null())
        .expect("a cell with a gap");
    let shown = cell_gap(
        &dom,
        c["unit_id"].as_str().unwrap(),
        c["competency_id"].as_str().unwrap(),
    )
    .expect("cell on page");
    assert!((shown - c["mean_gap"].as_f64().unwrap()).abs() < 1e-9);

    // the roll-up endpoints agree with what the dashboard's scope table shows
    let comps = server.get_json(&format!("/v1/gaps/competencies?org_unit={dept}"));
    assert_eq!(comps["rows"], api["competencies"]);
    let cats = server.get_json(&format!("/v1/gaps/categories?org_unit={dept}"));
    assert_eq!(cats["rows"], api["categories"]);
    let (code, _) = server.get("/v1/gaps/competencies?org_unit=nowhere");
    assert_eq!(code, 404, "an unknown unit is not an empty result");
    let (code, _) = server.get("/v1/gaps/units?as_of=yesterday");
    assert_eq!(code, 400, "a bad date is refused");
    // as of a date before the generated year, fewer people were assessed
    let past = server.get_json("/v1/gaps/units?as_of=2025-01-31");
    let now = server.get_json("/v1/gaps/units");
    let org = |v: &Value| unit_row(v, "org");
    assert!(org(&past)["assessed_pairs"].as_u64() < org(&now)["assessed_pairs"].as_u64());

    // a picture for people to look at
    let shot = artifacts().join("dashboard.png");
    chromium(
        &profile,
        &[&format!("--screenshot={}", shot.display())],
        &server.url("/"),
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
}

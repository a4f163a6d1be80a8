//! The dashboard in a real headless Chromium, driven by Playwright
//! (tests/browser/dashboard.mjs), once per role: each role signs in, sees
//! exactly what the API gives that role, is refused what it may not see,
//! clicks from the heatmap to a unit and (where allowed) to a person, and
//! downloads a CSV identical to the API's. Screenshots of every view land in
//! tests/artifacts/.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

const SCOPE: &str = "u01";

/// Runs the Playwright driver against the server; returns what each role saw.
fn drive(server: &Server, tokens: &Value, someone: &str, live: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser = root.join("tests/browser");
    assert!(
        browser.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run `npm ci --prefix tests/browser` (bash .ci/run does)"
    );
    let shots: PathBuf = root.join("tests/artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(browser.join("dashboard.mjs"))
        .env("CADRE_URL", server.url(""))
        .env("CADRE_TOKENS", tokens.to_string())
        .env("CADRE_ARTIFACTS", &shots)
        .env("CADRE_SOMEONE", someone)
        .env("CADRE_LIVE", live)
        .env("CADRE_INGEST", &server.token)
        .output()
        .expect("node is required for this test (bash .ci/run checks it)");
    assert!(
        out.status.success(),
        "the browser driver failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the driver prints JSON")
}

fn rows<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not a list"))
}

/// How many names the 9-box shows, over all boxes.
fn names_in_boxes(ninebox: &Value) -> u64 {
    ninebox["boxes"]
        .as_object()
        .unwrap()
        .values()
        .map(|b| b["names"].as_u64().unwrap())
        .sum()
}

/// Every heatmap cell the page shows agrees with the API's cell for that role.
fn cells_match(seen: &Value, api: &Value, role: &str) -> (usize, usize) {
    let (mut figures, mut hidden) = (0, 0);
    for c in rows(seen, "cells") {
        let Some(a) = rows(api, "cells")
            .iter()
            .find(|x| x["unit_id"] == c["unit"] && x["competency_id"] == c["competency"])
        else {
            // nobody there needs the competency: an empty, hatched cell
            assert_eq!(
                (&c["gap"], &c["text"]),
                (&Value::Null, &Value::from("")),
                "{role}"
            );
            continue;
        };
        if a["suppressed"] == true {
            assert_eq!(c["text"], "·", "{role}: a suppressed cell shows a dot");
            assert_eq!(c["gap"], Value::Null, "{role}: and no figure");
            hidden += 1;
        } else if let Some(gap) = a["mean_gap"].as_f64() {
            let shown = c["gap"].as_f64().expect("a figure");
            assert!((shown - gap).abs() < 1e-9, "{role}: {c} vs API {gap}");
            figures += 1;
        }
    }
    (figures, hidden)
}

#[test]
fn each_role_sees_what_it_may_in_the_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 600, 5);
    let (config, tokens) = role_config(tmp.path(), SCOPE, "");
    let config = config.to_str().unwrap().to_string();
    let server = Server::start_with(&data, "ingest-token-0123456789", &["--config", &config]);
    let someone = server.get_json(&format!("/v1/query/gaps?as_of={END}&org_unit={SCOPE}"))
        ["tables"]["employees"]["rows"][0]["employee_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut all = serde_json::json!({"admin": server.admin});
    for (role, t) in &tokens {
        all[role] = Value::String(t.clone());
    }
    // two events posted while the admin's overview is open: a hire into an
    // existing position, today
    let position = server.get_json("/v1/query/gaps?org_unit=u01")["tables"]["employees"]["rows"][0]
        ["position_id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = "2026-11-01T09:00:00Z";
    let live = format!(
        "{}\n{}\n",
        serde_json::json!({"event_id": "7e0d4c1a-0000-4000-8000-000000000001", "type": "employee.hired", "schema_version": 1,
            "occurred_at": now, "recorded_at": now, "source": "test", "subject": "emp-live-1", "data": {"name": "Live Hire"}}),
        serde_json::json!({"event_id": "7e0d4c1a-0000-4000-8000-000000000002", "type": "employee.assigned", "schema_version": 1,
            "occurred_at": now, "recorded_at": now, "source": "test", "subject": "emp-live-1", "data": {"position_id": position}}),
    );
    let seen = drive(&server, &all, &someone, &live);
    let live = &seen["admin"]["live"];
    assert_eq!(seen["admin"]["live_post"], 200);
    let (before, after): (u64, u64) = (
        live["before"].as_str().unwrap().parse().unwrap(),
        live["after"].as_str().unwrap().parse().unwrap(),
    );
    assert_eq!(after, before + 1, "the open overview counts the new hire");
    assert_eq!(live["not_reloaded"], true, "without a reload");

    for (role, token) in all.as_object().unwrap() {
        let token = token.as_str().unwrap();
        let s = &seen[role];
        assert_eq!(
            s["redirected_to"], "/login",
            "{role}: signed out means the form"
        );
        assert!(s["bad_token"].as_str().unwrap().contains("not valid"));
        assert_eq!(
            s["overview_state"]["state"], "ready",
            "{role}: {}",
            s["overview_state"]
        );

        // overview figures and charts are the trend API's
        let trends = server.get_json_as(token, "/v1/query/trends?months=12");
        let last = rows(&trends["tables"]["trends"], "rows")
            .last()
            .unwrap()
            .clone();
        let metrics = &s["overview"]["metrics"];
        assert_eq!(
            metrics["headcount"],
            last["headcount"].to_string(),
            "{role}"
        );
        let pct = |v: &Value| format!("{:.0}%", v.as_f64().unwrap() * 100.0);
        assert_eq!(metrics["coverage"], pct(&last["coverage"]), "{role}");
        assert_eq!(
            metrics["succession_coverage"],
            pct(&last["succession_coverage"]),
            "{role}"
        );
        let at_risk: f64 = metrics["positions_at_risk"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            at_risk,
            last["positions_at_risk"].as_f64().unwrap(),
            "{role}"
        );
        let charts = rows(&s["overview"], "charts");
        assert_eq!(
            charts.len(),
            7,
            "{role}: six sparklines and the trend chart"
        );
        for c in charts {
            assert_eq!(c["drawn"], true, "{role}: chart {} is drawn", c["id"]);
        }
        let trend = charts.iter().find(|c| c["id"] == "trend-chart").unwrap();
        assert_eq!(trend["labels"], 12);
        assert_eq!(
            trend["data"][0][11].as_f64().unwrap(),
            last["mean_gap"].as_f64().unwrap()
        );

        // the heatmap is the API's heatmap for this role; the CSV is the API's CSV
        assert_eq!(s["heatmap_state"]["state"], "ready", "{role}");
        let api = server.get_json_as(token, "/v1/gaps/heatmap");
        let (figures, _) = cells_match(&s["heatmap"], &api, role);
        assert!(
            figures > 20,
            "{role}: the heatmap shows figures ({figures})"
        );
        let csv = &s["heatmap_csv"];
        let (code, body) = server.get_as(token, csv["href"].as_str().unwrap());
        assert_eq!(code, 200);
        assert_eq!(
            csv["body"].as_str().unwrap(),
            String::from_utf8(body).unwrap()
        );
        assert!(csv["body"]
            .as_str()
            .unwrap()
            .starts_with("unit_id,unit_name,competency_id"));

        // click-through to a unit
        let unit = s["clicked_unit"].as_str().unwrap();
        assert_eq!(s["drill_state"]["state"], "ready", "{role}");
        assert!(rows(&s["drill"], "crumbs").iter().any(|c| c == unit));
        let api = server.get_json_as(token, &format!("/v1/gaps/heatmap?parent={unit}"));
        cells_match(&s["drill"], &api, role);
        assert_eq!(s["training_state"]["state"], "ready", "{role}");
        assert_eq!(s["ninebox_state"]["state"], "ready", "{role}");
        let needs = rows(&s["training"], "charts");
        assert_eq!(needs[0]["type"], "bar");
    }

    // planners and admins reach people; their views are audited
    for role in ["planner", "admin"] {
        let s = &seen[role];
        let person = s["clicked_person"].as_str().expect("a person to click");
        assert_eq!(s["profile_state"]["state"], "ready", "{role}");
        let api = server.get_json(&format!("/v1/employees/{person}"));
        let text = s["profile"]["text"].as_str().unwrap();
        assert!(text.contains(api["employee"]["name"].as_str().unwrap()));
        assert!(text.contains("Development list") && text.contains("Assessments"));
        let dev_chart = rows(&s["profile"], "charts")
            .iter()
            .find(|c| c["id"] == "profile-chart")
            .unwrap()
            .clone();
        let required: Vec<f64> = rows(&api["development"], "rows")
            .iter()
            .map(|r| r["required"].as_f64().unwrap())
            .collect();
        let drawn: Vec<f64> = dev_chart["data"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(
            drawn, required,
            "{role}: the chart draws the required levels"
        );
        let names = names_in_boxes(&s["ninebox"]);
        assert!(names > 0, "{role} sees who is in each box");
    }
    let audit = std::fs::read_to_string(data.join("audit.jsonl")).unwrap();
    let planner_person = seen["planner"]["clicked_person"].as_str().unwrap();
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"planner one\"") && l.contains(planner_person)),
        "the planner's look at {planner_person} is in the audit log"
    );

    // the planner is held to their scope
    let planner = &seen["planner"];
    for u in rows(&planner["overview"], "units") {
        let u = u.as_str().unwrap();
        assert!(
            u == SCOPE || u.starts_with(&format!("{SCOPE}-")),
            "{u} outside u01"
        );
    }
    let (code, _) = server.get_as(&tokens["planner"], "/v1/gaps/heatmap?parent=u02");
    assert_eq!(code, 403);

    // leaders see succession but nobody's profile
    let leader = &seen["leader"];
    assert!(leader["drill"]["people"].as_array().unwrap().is_empty());
    assert_eq!(leader["forced_profile_state"]["state"], "error");
    assert!(leader["forced_profile_state"]["error"]
        .as_str()
        .unwrap()
        .starts_with("Not allowed"));
    let succ = server.get_json_as(&tokens["leader"], "/v1/query/succession");
    let mut api_positions: Vec<&str> = rows(&succ["tables"]["positions"], "rows")
        .iter()
        .map(|p| p["position_id"].as_str().unwrap())
        .collect();
    let mut shown: Vec<&str> = rows(&leader["succession"], "positions")
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    api_positions.sort();
    shown.sort();
    assert_eq!(shown, api_positions);
    assert!(!shown.is_empty());
    assert_eq!(leader["position_state"]["state"], "ready");
    assert!(leader["position"]["text"]
        .as_str()
        .unwrap()
        .contains("Gaps to the role"));

    // viewers see aggregates only
    let viewer = &seen["viewer"];
    assert!(!rows(&viewer["overview"], "tabs")
        .iter()
        .any(|t| t == "succession"));
    assert_eq!(viewer["succession_state"]["state"], "error");
    assert!(viewer["succession_state"]["error"]
        .as_str()
        .unwrap()
        .starts_with("Not allowed"));
    assert_eq!(viewer["forced_profile_state"]["state"], "error");
    assert!(viewer["drill"]["people"].as_array().unwrap().is_empty());
    let names = names_in_boxes(&viewer["ninebox"]);
    assert_eq!(names, 0, "no names in the viewer's 9-box");
    let api = server.get_json_as(
        &tokens["viewer"],
        &format!(
            "/v1/gaps/heatmap?parent={}",
            viewer["clicked_unit"].as_str().unwrap()
        ),
    );
    let (_, hidden) = cells_match(&viewer["drill"], &api, "viewer");
    assert!(hidden > 0, "small teams are suppressed for the viewer");
}

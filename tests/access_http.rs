//! Who may call what over HTTP, and the small-group rules checked as
//! properties of the answers a viewer gets on a generated organisation.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

const K: u64 = 5;

/// A server on a generated organisation of `employees`, with a token per
/// role (planner and leader scoped to u01) and the tokens by role.
fn server_with_roles(
    tmp: &std::path::Path,
    employees: usize,
    seed: u64,
) -> (Server, BTreeMap<String, String>) {
    let data = demo_data(tmp, employees, seed);
    let (config, t) = role_config(tmp, "u01", "");
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );
    (server, t)
}

fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().expect("rows")
}

#[test]
fn every_endpoint_checks_the_role() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, t) = server_with_roles(tmp.path(), 300, 3);
    let someone = server.get_json("/v1/query/gaps?org_unit=u01")["tables"]["employees"]["rows"][0]
        ["employee_id"]
        .as_str()
        .unwrap()
        .to_string();
    let position = server.get_json("/v1/query/succession?org_unit=u01")["tables"]["positions"]
        ["rows"][0]["position_id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = server.admin.clone();
    let who: [(&str, &str); 5] = [
        ("admin", &admin),
        ("planner", &t["planner"]),
        ("leader", &t["leader"]),
        ("viewer", &t["viewer"]),
        ("ingest", "ingest-token-0123456789"),
    ];
    // (path, expected status for admin, planner, leader, viewer, ingest)
    let cases: Vec<(String, [u16; 5])> = vec![
        ("/v1/gaps/units".into(), [200, 200, 200, 200, 403]),
        ("/v1/gaps/heatmap".into(), [200, 200, 200, 200, 403]),
        (
            "/v1/gaps/heatmap?parent=u02".into(),
            [200, 403, 403, 200, 403],
        ),
        (
            "/v1/query/trends?months=2".into(),
            [200, 200, 200, 200, 403],
        ),
        ("/v1/query/succession".into(), [200, 200, 200, 403, 403]),
        (
            format!("/v1/query/development?employee={someone}"),
            [200, 200, 403, 403, 403],
        ),
        (
            format!("/v1/employees/{someone}"),
            [200, 200, 403, 403, 403],
        ),
        (
            format!("/v1/succession/{position}"),
            [200, 200, 200, 403, 403],
        ),
        ("/v1/reports/succession".into(), [200, 200, 200, 403, 403]),
        ("/v1/status".into(), [200, 200, 200, 200, 403]),
        ("/metrics".into(), [200, 200, 200, 200, 403]),
        ("/v1/me".into(), [200, 200, 200, 200, 200]),
    ];
    for (path, expected) in &cases {
        assert_eq!(
            server.request("GET", path, &[], b"").0,
            401,
            "{path} without a token"
        );
        for ((role, token), want) in who.iter().zip(expected) {
            let (code, body) = server.get_as(token, path);
            assert_eq!(
                code,
                *want,
                "{role} GET {path}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    assert_eq!(server.request("GET", "/health", &[], b"").0, 200);
    // only ingest and admin may post
    let viewer = format!("Bearer {}", t["viewer"]);
    let (code, _) = server.request("POST", "/v1/events", &[("Authorization", &viewer)], b"{}");
    assert_eq!(code, 403);
    // viewers get no table naming people, and no CSV of one
    let g = server.get_json_as(&t["viewer"], "/v1/query/gaps");
    assert!(g["tables"].get("employees").is_none());
    assert!(g["tables"].get("units").is_some());
    let (code, _) = server.get_as(&t["viewer"], "/v1/query/gaps?format=csv&table=employees");
    assert_eq!(code, 404);
    let nb = server.get_json_as(&t["leader"], "/v1/query/nine-box");
    assert!(
        nb["tables"].get("members").is_none(),
        "leaders see no names in the 9-box"
    );
    // the sign-in form refuses an ingest token
    let (code, _) = server.request(
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"token=ingest-token-0123456789",
    );
    assert_eq!(code, 403);
}

#[test]
fn a_viewer_cannot_subtract_their_way_to_a_small_group() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, t) = server_with_roles(tmp.path(), 500, 8);
    let full = server.get_json(&format!("/v1/gaps/units?as_of={END}"));
    let seen = server.get_json_as(&t["viewer"], &format!("/v1/gaps/units?as_of={END}"));
    let people: BTreeMap<&str, u64> = rows(&full)
        .iter()
        .map(|r| {
            (
                r["unit_id"].as_str().unwrap(),
                r["people_with_requirements"].as_u64().unwrap(),
            )
        })
        .collect();
    let shown: BTreeMap<&str, bool> = rows(&seen)
        .iter()
        .map(|r| (r["unit_id"].as_str().unwrap(), r["suppressed"] == false))
        .collect();
    let mut hidden = 0;
    for r in rows(&seen) {
        let id = r["unit_id"].as_str().unwrap();
        if r["suppressed"] == true {
            hidden += 1;
            assert_eq!(r["mean_gap"], Value::Null);
            continue;
        }
        // a shown unit is about k people or more, or nobody
        let n = people[id];
        assert!(n == 0 || n >= K, "{id} shown with {n} people");
        // and whatever its shown children leave uncovered is 0 or at least k
        let covered: u64 = rows(&full)
            .iter()
            .filter(|c| c["parent_id"] == id && shown[c["unit_id"].as_str().unwrap()])
            .map(|c| people[c["unit_id"].as_str().unwrap()])
            .sum();
        let rest = n - covered;
        assert!(
            rest == 0 || rest >= K,
            "{id}: {rest} people recoverable by subtraction"
        );
        // a hidden parent hides its whole subtree
        if let Some(p) = r["parent_id"].as_str() {
            assert!(shown[p], "{id} is shown under hidden {p}");
        }
    }
    assert!(hidden > 0, "some units are small enough to hide");
    // asking for a hidden unit directly blanks everything
    let small = rows(&seen)
        .iter()
        .find(|r| r["suppressed"] == true)
        .unwrap()["unit_id"]
        .as_str()
        .unwrap();
    let c = server.get_json_as(
        &t["viewer"],
        &format!("/v1/gaps/competencies?org_unit={small}&as_of={END}"),
    );
    assert!(!rows(&c).is_empty());
    assert!(rows(&c)
        .iter()
        .all(|r| r["suppressed"] == true && r["mean_gap"].is_null()));
    // the planner sees the same unit's figures
    let c = server.get_json_as(
        &t["planner"],
        &format!("/v1/gaps/competencies?org_unit=u01&as_of={END}"),
    );
    assert!(rows(&c).iter().all(|r| r.get("suppressed").is_none()));
    // the CSV is the viewer's JSON, suppression included
    let (code, csv) = server.get_as(
        &t["viewer"],
        &format!("/v1/gaps/units?as_of={END}&format=csv"),
    );
    assert_eq!(code, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",suppressed"));
    assert_eq!(csv.lines().count(), rows(&seen).len() + 1);
    assert_eq!(
        csv.lines().filter(|l| l.ends_with(",true")).count(),
        hidden,
        "the same rows are suppressed in the CSV"
    );

    // a role filter whose complement in the scope is small blanks the answer
    let mut found = false;
    for u in rows(&full) {
        let unit = u["unit_id"].as_str().unwrap();
        let by_role = server.get_json(&format!("/v1/query/gaps?as_of={END}&org_unit={unit}"));
        let role_rows = by_role["tables"]["roles"]["rows"].as_array().unwrap();
        let total: u64 = role_rows
            .iter()
            .map(|r| r["people_with_requirements"].as_u64().unwrap())
            .sum();
        let Some(r) = role_rows.iter().find(|r| {
            let n = r["people_with_requirements"].as_u64().unwrap();
            n >= K && (1..K).contains(&(total - n))
        }) else {
            continue;
        };
        let role = r["role_id"].as_str().unwrap();
        let c = server.get_json_as(
            &t["viewer"],
            &format!("/v1/gaps/competencies?org_unit={unit}&role={role}&as_of={END}"),
        );
        assert!(
            rows(&c).iter().all(|x| x["mean_gap"].is_null()),
            "{unit} minus {role} leaves {} people",
            total - r["people_with_requirements"].as_u64().unwrap()
        );
        found = true;
        break;
    }
    assert!(
        found,
        "the organisation has a unit with a small complement of some role"
    );
}

#[test]
fn a_scoped_token_is_told_of_no_candidate_from_elsewhere() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, t) = server_with_roles(tmp.path(), 300, 3);
    // who works where, as the admin sees it
    let employees = server.get_json("/v1/query/gaps")["tables"]["employees"]["rows"].clone();
    let unit_of: BTreeMap<String, String> = employees
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let unit = r["org_unit_id"].as_str().unwrap_or_default().to_string();
            (r["employee_id"].as_str().unwrap().to_string(), unit)
        })
        .collect();
    let in_u01 = |id: &str| {
        let unit = &unit_of[id];
        unit == "u01" || unit.starts_with("u01-") || unit.starts_with("u01.")
    };
    // the admin's own answer for u01 lists candidates from elsewhere: the
    // attack has something to find
    let admin_view = server.get_json("/v1/query/succession?org_unit=u01");
    let foreign: Vec<&str> = admin_view["tables"]["candidates"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["candidate_id"].as_str())
        .filter(|c| !in_u01(c))
        .collect();
    assert!(
        !foreign.is_empty(),
        "the demo suggests people from other units for u01's posts"
    );
    let foreign_names: Vec<&str> = admin_view["tables"]["candidates"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["candidate_id"].as_str().is_some_and(|c| !in_u01(c)))
        .filter_map(|r| r["name"].as_str())
        // names the generator gave one person only
        .filter(|n| {
            employees
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["name"].as_str() == Some(n))
                .count()
                == 1
        })
        .collect();
    assert!(!foreign_names.is_empty());
    let (_, admin_report) = server.get("/v1/reports/succession?org_unit=u01");
    let admin_report = String::from_utf8_lossy(&admin_report);
    assert!(
        foreign_names.iter().any(|n| admin_report.contains(n)),
        "the admin's report names candidates from elsewhere"
    );

    for role in ["leader", "planner"] {
        let v = server.get_json_as(&t[role], "/v1/query/succession");
        let candidates = v["tables"]["candidates"]["rows"].as_array().unwrap();
        assert!(!candidates.is_empty(), "{role}: u01's own candidates stay");
        for c in candidates {
            let id = c["candidate_id"].as_str().unwrap();
            assert!(in_u01(id), "{role} was told of {id} from {}", unit_of[id]);
        }
        for entry in v["summary"]["over_nominated"].as_array().unwrap() {
            let id = entry[0].as_str().unwrap();
            assert!(in_u01(id), "{role}: over_nominated names {id}");
        }
        // one position's detail, and the report
        let position = v["tables"]["positions"]["rows"][0]["position_id"]
            .as_str()
            .unwrap()
            .to_string();
        let detail = server.get_json_as(&t[role], &format!("/v1/succession/{position}"));
        for c in detail["rows"].as_array().unwrap() {
            let id = c["candidate_id"].as_str().unwrap();
            assert!(in_u01(id), "{role}: position detail names {id}");
        }
        let (code, html) = server.get_as(&t[role], "/v1/reports/succession");
        assert_eq!(code, 200);
        let html = String::from_utf8_lossy(&html);
        for name in &foreign_names {
            assert!(!html.contains(name), "{role}: the report names {name}");
        }
    }
    server.stop();
}

/// The people of each competency row of an answer, by competency, for the
/// rows the caller was shown with figures.
fn shown_people(v: &Value, table: &str) -> BTreeMap<String, u64> {
    v[table]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["suppressed"] != true && !r["mean_gap"].is_null())
        .filter_map(|r| {
            Some((
                r["competency_id"].as_str()?.to_string(),
                r["people_with_requirements"].as_u64()?,
            ))
        })
        .collect()
}

#[test]
fn no_row_of_one_answer_minus_another_is_about_a_few() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, t) = server_with_roles(tmp.path(), 500, 8);
    let viewer = &t["viewer"];
    let units = server.get_json(&format!("/v1/gaps/units?as_of={END}"));
    let mut role_pairs = 0;
    let mut cell_checks = 0;
    let mut distribution_checks = 0;
    for u in rows(&units) {
        let unit = u["unit_id"].as_str().unwrap();
        // role differencing, per competency: unfiltered minus filtered
        let whole = server.get_json_as(
            viewer,
            &format!("/v1/gaps/competencies?org_unit={unit}&as_of={END}"),
        );
        let whole = shown_people(&serde_json::json!({"rows": whole["rows"]}), "rows");
        let roles = server.get_json(&format!("/v1/query/gaps?as_of={END}&org_unit={unit}"));
        for r in roles["tables"]["roles"]["rows"].as_array().unwrap() {
            let role = r["role_id"].as_str().unwrap();
            let part = server.get_json_as(
                viewer,
                &format!("/v1/gaps/competencies?org_unit={unit}&role={role}&as_of={END}"),
            );
            let part = shown_people(&serde_json::json!({"rows": part["rows"]}), "rows");
            for (c, n) in &part {
                if let Some(w) = whole.get(c) {
                    let rest = w - n;
                    assert!(
                        rest == 0 || rest >= K,
                        "{unit}, {c}: all minus role {role} leaves {rest} people"
                    );
                    role_pairs += 1;
                }
            }
        }
        // the level distribution: never one level of a competency hidden
        // alone (the competency's total minus the others would show it), no
        // small count of unassessed people
        let g = server.get_json_as(
            viewer,
            &format!("/v1/query/gaps?org_unit={unit}&as_of={END}"),
        );
        let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in g["tables"]["distribution"]["rows"].as_array().unwrap() {
            let e = per.entry(r["competency_id"].as_str().unwrap()).or_default();
            e.0 += 1;
            e.1 += usize::from(r["suppressed"] == true);
            let unassessed = r["unassessed"].as_u64();
            assert!(
                unassessed.is_none_or(|n| n == 0 || n >= K),
                "{unit}: {unassessed:?} unassessed shown"
            );
        }
        for (c, (levels, hidden)) in per {
            assert!(
                levels == 1 || hidden != 1,
                "{unit}, {c}: one level hidden alone"
            );
            distribution_checks += 1;
        }
        // the heatmap under the unit: its competency row minus its shown children's cells
        let h = server.get_json_as(
            viewer,
            &format!("/v1/gaps/heatmap?parent={unit}&as_of={END}"),
        );
        let parent = shown_people(&h, "competencies");
        for (c, n) in &parent {
            let covered: u64 = h["cells"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| x["competency_id"] == c.as_str() && x["suppressed"] != true)
                .filter_map(|x| x["people_with_requirements"].as_u64())
                .sum();
            if covered == 0 {
                continue;
            }
            let rest = n - covered;
            assert!(
                rest == 0 || rest >= K,
                "heatmap under {unit}, {c}: {rest} people outside the shown children"
            );
            cell_checks += 1;
        }
    }
    assert!(role_pairs > 50, "{role_pairs} role differences checked");
    assert!(cell_checks > 20, "{cell_checks} heatmap remainders checked");
    assert!(
        distribution_checks > 50,
        "{distribution_checks} distributions checked"
    );
    server.stop();
}

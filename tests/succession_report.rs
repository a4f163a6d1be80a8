//! The succession report for leadership: from the CLI and over HTTP, as HTML
//! and as PDF (read back with pdftotext), limited to the caller's scope,
//! refused to roles without succession rights, and never showing anyone
//! their own candidacies.

mod common;

use std::process::Command;

use common::*;
use serde_json::Value;

/// The text of a PDF, by poppler's pdftotext.
fn pdf_text(pdf: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext is required for this test: apt-get install poppler-utils (bash .ci/run does)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

fn pages(pdf: &std::path::Path) -> usize {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo runs");
    let info = String::from_utf8(out.stdout).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo prints the page count")
}

#[test]
fn succession_report_reads_well_and_respects_access() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 400, 11);

    // the CLI writes the PDF; its text is the report
    let pdf = tmp.path().join("report.pdf");
    run(
        cadre(&data)
            .args([
                "report",
                "succession",
                "--format",
                "pdf",
                "--as-of",
                END,
                "--output",
            ])
            .arg(&pdf),
        0,
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let text = pdf_text(&pdf);
    for heading in [
        "Succession report",
        "Executive summary",
        "Critical positions",
        "Method",
        "Role fit",
    ] {
        assert!(text.contains(heading), "the PDF has {heading:?}");
    }
    assert!(
        pages(&pdf) >= 2,
        "summary, positions and method over several pages"
    );
    let html_path = tmp.path().join("report.html");
    run(
        cadre(&data)
            .args(["report", "succession", "--as-of", END, "--output"])
            .arg(&html_path),
        0,
    );
    let cli_html = std::fs::read_to_string(&html_path).unwrap();

    // a leader that is also a candidate somewhere in u01
    let server0 = Server::start(&data, "ingest-token-0123456789");
    let succ = server0.get_json(&format!("/v1/query/succession?as_of={END}&org_unit=u01"));
    drop(server0);
    let positions = succ["tables"]["positions"]["rows"].as_array().unwrap();
    let incumbents: Vec<&Value> = positions.iter().map(|p| &p["incumbent_id"]).collect();
    let me = succ["tables"]["candidates"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["nominated"] == true && !incumbents.contains(&&c["candidate_id"]))
        .or_else(|| {
            succ["tables"]["candidates"]["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| !incumbents.contains(&&c["candidate_id"]))
        })
        .expect("someone in u01 is a candidate")
        .clone();
    let my_id = me["candidate_id"].as_str().unwrap();
    let my_name = me["name"].as_str().unwrap();
    let extra = format!(
        "\n[[access.tokens]]\nname = \"candidate leader\"\nrole = \"leader\"\nscope = \"u01\"\nemployee = \"{my_id}\"\ntoken_sha256 = \"{}\"\n",
        token_hash("candidate-token")
    );
    let (config, tokens) = role_config(tmp.path(), "u01", &extra);
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", config.to_str().unwrap()],
    );

    // the API serves the same report as the CLI writes
    let (code, body) = server.get(&format!("/v1/reports/succession?as_of={END}"));
    assert_eq!(code, 200);
    assert_eq!(String::from_utf8(body).unwrap(), cli_html);
    assert!(
        cli_html.contains(my_name),
        "the whole report names the candidate"
    );

    // leaders get their scope only, as HTML or PDF
    let (code, body) = server.get_as(
        &tokens["leader"],
        &format!("/v1/reports/succession?as_of={END}"),
    );
    assert_eq!(code, 200);
    let scoped = String::from_utf8(body).unwrap();
    let u01 = positions[0]["org_unit_id"].as_str().unwrap();
    assert!(u01.starts_with("u01"));
    // every position row names its unit: those of u01's subtree only
    let units = server.get_json("/v1/units");
    let mut inside = 0;
    for u in units["units"].as_array().unwrap() {
        let cell = format!("<td>{}</td>", u["unit_name"].as_str().unwrap());
        if u["unit_id"].as_str().unwrap().starts_with("u01") {
            inside += usize::from(scoped.contains(&cell));
        } else {
            assert!(
                !scoped.contains(&cell),
                "{cell} is outside the leader's scope"
            );
        }
    }
    assert!(inside > 0, "the leader's units are in the report");
    let (code, body) = server.get_as(
        &tokens["leader"],
        &format!("/v1/reports/succession?as_of={END}&format=pdf"),
    );
    assert_eq!(code, 200);
    assert!(body.starts_with(b"%PDF"));
    let leader_pdf = tmp.path().join("leader.pdf");
    std::fs::write(&leader_pdf, &body).unwrap();
    assert!(pdf_text(&leader_pdf).contains("Succession report"));
    let (code, _) = server.get_as(
        &tokens["leader"],
        &format!("/v1/reports/succession?org_unit=u02&as_of={END}"),
    );
    assert_eq!(code, 403, "another department is refused");

    // viewers may not read succession; planners may
    let (code, _) = server.get_as(&tokens["viewer"], "/v1/reports/succession");
    assert_eq!(code, 403);
    let (code, _) = server.get_as(&tokens["planner"], "/v1/reports/succession");
    assert_eq!(code, 200);

    // nobody sees their own candidacies, in the report or the API
    let (code, body) = server.get_as(
        "candidate-token",
        &format!("/v1/reports/succession?as_of={END}"),
    );
    assert_eq!(code, 200);
    let mine = String::from_utf8(body).unwrap();
    assert!(scoped.contains(my_name), "other leaders see {my_name}");
    assert!(!mine.contains(my_name), "{my_name} does not see themselves");
    let q = server.get_json_as(
        "candidate-token",
        &format!("/v1/query/succession?as_of={END}"),
    );
    assert!(!q["tables"]["candidates"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["candidate_id"] == my_id));
    let box_rows = server.get_json_as(
        &tokens["planner"],
        &format!("/v1/query/nine-box?as_of={END}"),
    );
    assert!(box_rows["tables"]["members"]["rows"].as_array().is_some());

    // the audit log has every report served
    let audit = std::fs::read_to_string(data.join("audit.jsonl")).unwrap();
    let reports = audit
        .lines()
        .filter(|l| l.contains("/v1/reports/succession"))
        .count();
    assert!(reports >= 5, "{reports} report accesses audited");
}

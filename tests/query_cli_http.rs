//! `cadre query` and `GET /v1/query/...` give the same numbers, in every format.

mod common;

use common::*;
use serde_json::Value;

fn cli_json(data: &std::path::Path, args: &[&str]) -> Value {
    cli_json_exiting(data, args, 0)
}

/// `cadre query ARGS --format json`, expecting exit code `code`.
fn cli_json_exiting<S: AsRef<std::ffi::OsStr>>(
    data: &std::path::Path,
    args: &[S],
    code: i32,
) -> Value {
    let out = run(
        cadre(data)
            .arg("query")
            .args(args)
            .args(["--format", "json"]),
        code,
    );
    serde_json::from_slice(&out.stdout).expect("query prints JSON")
}

#[test]
fn cli_and_http_agree_on_every_query() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 300, 9);
    // pick an employee and a critical position from the data itself
    let gaps = cli_json(&data, &["gaps", "--as-of", END]);
    let employee = gaps["tables"]["employees"]["rows"][0]["employee_id"]
        .as_str()
        .unwrap()
        .to_string();
    let succession = cli_json(&data, &["succession", "--as-of", END]);
    let position = succession["tables"]["positions"]["rows"][0]["position_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        succession["summary"]["critical_positions"]
            .as_u64()
            .unwrap()
            > 0
    );

    let cases: Vec<(Vec<String>, String)> = vec![
        (vec!["gaps".into()], String::new()),
        (
            vec!["gaps".into(), "--org-unit".into(), "u01".into()],
            "&org_unit=u01".into(),
        ),
        (
            vec!["gaps".into(), "--category".into(), "staff".into()],
            "&category=staff".into(),
        ),
        (vec!["training-needs".into()], String::new()),
        (
            vec![
                "training-needs".into(),
                "--role".into(),
                "role.officer".into(),
            ],
            "&role=role.officer".into(),
        ),
        (vec!["succession".into()], String::new()),
        (
            vec!["succession".into(), "--org-unit".into(), "u01".into()],
            "&org_unit=u01".into(),
        ),
        (
            vec!["nine-box".into(), "--org-unit".into(), "u02".into()],
            "&org_unit=u02".into(),
        ),
        (
            vec!["trends".into(), "--months".into(), "3".into()],
            "&months=3".into(),
        ),
        (
            vec!["development".into(), "--employee".into(), employee.clone()],
            format!("&employee={employee}"),
        ),
        (
            vec![
                "plan".into(),
                "--position".into(),
                position.clone(),
                "--months".into(),
                "2".into(),
            ],
            format!("&position={position}&months=2"),
        ),
    ];
    let cli: Vec<Value> = cases
        .iter()
        .map(|(args, _)| {
            let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
            a.extend(["--as-of", END]);
            cli_json(&data, &a)
        })
        .collect();

    let server = Server::start(&data, "ingest-token-0123456789");
    for ((args, params), from_cli) in cases.iter().zip(&cli) {
        let path = format!("/v1/query/{}?as_of={END}{params}", args[0]);
        let from_http = server.get_json(&path);
        if let Some(d) = first_difference(&from_http, from_cli, "") {
            panic!("{path}: HTTP and CLI differ at {d}");
        }
        let tables = from_cli["tables"].as_object().unwrap();
        assert!(!tables.is_empty(), "{path} returns tables");
    }
    // the queries see the server's data even while it runs
    let while_serving = cli_json(&data, &["gaps", "--as-of", END]);
    assert_eq!(while_serving, cli[0]);

    // errors: no token, unknown query, unknown unit, missing parameter
    assert_eq!(server.request("GET", "/v1/query/gaps", &[], b"").0, 401);
    assert_eq!(server.get("/v1/query/nope").0, 404);
    assert_eq!(server.get("/v1/query/gaps?org_unit=nowhere").0, 404);
    assert_eq!(server.get("/v1/query/development").0, 400);
    let out = cadre(&data)
        .args(["query", "gaps", "--org-unit", "nowhere"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown org unit"),
        "a clear error"
    );

    // the past is different from the present
    let past = cli_json(&data, &["gaps", "--as-of", "2025-09-30"]);
    assert_ne!(past["tables"]["units"], cli[0]["tables"]["units"]);

    // csv: the main table, one line per row plus the header
    let out = run(
        cadre(&data).args(["query", "gaps", "--as-of", END, "--format", "csv"]),
        0,
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows = cli[0]["tables"]["competencies"]["rows"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(csv.lines().count(), rows + 1);
    assert!(csv.starts_with("competency_id,competency_name,category,category_name,"));
    let out = run(
        cadre(&data).args([
            "query",
            "succession",
            "--as-of",
            END,
            "--format",
            "csv",
            "--table",
            "candidates",
        ]),
        0,
    );
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("position_id,candidate_id,"));

    // parquet: a real Parquet file
    let pq = tmp.path().join("needs.parquet");
    run(
        cadre(&data)
            .args([
                "query",
                "training-needs",
                "--as-of",
                END,
                "--format",
                "parquet",
                "--output",
            ])
            .arg(&pq),
        0,
    );
    let bytes = std::fs::read(&pq).unwrap();
    assert!(
        bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
        "parquet magic"
    );

    // a configuration file changes the thresholds for the CLI (and the server)
    let lenient = tmp.path().join("lenient.toml");
    std::fs::write(
        &lenient,
        "[analytics]\nready_now = 0.0\nready_1_2_years = 0.0\nready_3_plus_years = 0.0\n",
    )
    .unwrap();
    let out = run(
        cadre(&data).arg("--config").arg(&lenient).args([
            "query",
            "succession",
            "--as-of",
            END,
            "--format",
            "json",
        ]),
        0,
    );
    let relaxed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ready = |v: &Value| v["summary"]["with_ready_now"].as_u64().unwrap();
    assert!(
        ready(&relaxed) > ready(&succession),
        "a zero threshold makes more positions covered"
    );
    // and for the server's dashboard endpoints too
    drop(server);
    let strict = tmp.path().join("strict.toml");
    std::fs::write(&strict, "[analytics]\nstale_days = 1\n").unwrap();
    let server = Server::start_with(
        &data,
        "ingest-token-0123456789",
        &["--config", strict.to_str().unwrap()],
    );
    let units = server.get_json(&format!("/v1/gaps/units?as_of={END}"));
    let org = unit_row(&units, "org");
    let default_org = unit_row(&cli[0]["tables"]["units"], "org");
    assert!(
        org["staleness"].as_f64().unwrap() > default_org["staleness"].as_f64().unwrap(),
        "stale after one day: {} vs {}",
        org["staleness"],
        default_org["staleness"]
    );
    drop(server);
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[analytics]\nready_soon = 1\n").unwrap();
    let out = cadre(&data)
        .arg("--config")
        .arg(&bad)
        .args(["query", "gaps"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ready_soon"),
        "the error names the key"
    );

    // table: for people
    let out = run(
        cadre(&data).args(["query", "succession", "--as-of", END]),
        0,
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("coverage:") && text.contains("positions") && text.contains("bench_strength"),
        "{text}"
    );
}

/// `cadre query --import` stores the files as `cadre ingest` does and
/// answers from the events it folded while storing them: the same figures
/// as ingesting first and querying after, on a fresh data directory and on
/// one that already holds events, and the events are in the log after.
#[test]
fn query_import_stores_the_files_and_answers_as_ingest_then_query() {
    let tmp = tempfile::tempdir().unwrap();
    let all = tmp.path().join("all.ndjson");
    generate(&all, 250, 4);
    let text = std::fs::read_to_string(&all).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (first, second) = lines.split_at(lines.len() / 2);
    let (a, b) = (tmp.path().join("a.ndjson"), tmp.path().join("b.ndjson"));
    std::fs::write(&a, first.join("\n") + "\n").unwrap();
    // one broken line among the second half: dead-lettered, the rest stored
    std::fs::write(&b, format!("{}\n{{\"event_id\": 7}}\n", second.join("\n"))).unwrap();
    let query = |data: &std::path::Path, import: &[&std::path::Path], code: i32| -> Value {
        let mut args: Vec<String> = ["gaps", "--as-of", END].map(String::from).to_vec();
        if !import.is_empty() {
            args.extend(["--quiet".into(), "--import".into()]);
            args.extend(import.iter().map(|f| f.display().to_string()));
        }
        cli_json_exiting(data, &args, code)
    };

    // the reference: ingest, then query (the log read back)
    let reference = tmp.path().join("reference");
    run(
        cadre(&reference)
            .arg("ingest")
            .arg("--quiet")
            .arg(&a)
            .arg(&b),
        2,
    );
    let expected = query(&reference, &[], 0);
    assert!(
        expected["tables"]["employees"]["rows"]
            .as_array()
            .unwrap()
            .len()
            > 100
    );

    // both files at once into a fresh directory: one rejected line, exit code 2
    let fresh = tmp.path().join("fresh");
    let got = query(&fresh, &[&a, &b], 2);
    assert_eq!(first_difference(&got, &expected, ""), None);
    assert_eq!(status(&fresh)["events"], status(&reference)["events"]);
    assert_eq!(status(&fresh)["dead_letters"], 1);
    // what it stored answers the same when read back
    assert_eq!(
        first_difference(&query(&fresh, &[], 0), &expected, ""),
        None
    );

    // onto a directory that already holds the first file
    let halfway = tmp.path().join("halfway");
    run(cadre(&halfway).arg("ingest").arg("--quiet").arg(&a), 0);
    let half = query(&halfway, &[], 0);
    assert_ne!(first_difference(&half, &expected, ""), None);
    assert_eq!(
        first_difference(&query(&halfway, &[&b], 2), &expected, ""),
        None
    );

    // importing the first file again stores nothing twice
    assert_eq!(
        first_difference(&query(&fresh, &[&a], 0), &expected, ""),
        None
    );
    assert_eq!(status(&fresh)["events"], status(&reference)["events"]);

    // --timings says how long each step took, the total being the first two
    let out = run(
        cadre(&fresh)
            .args(["query", "gaps", "--quiet", "--timings", "--import"])
            .arg(&a)
            .args(["--output", tmp.path().join("answer.json").to_str().unwrap()]),
        0,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("cadre "))
        .unwrap_or_else(|| panic!("no timings: {stderr}"));
    let secs = |step: &str| -> f64 {
        let (_, rest) = line.split_once(&format!("{step} ")).expect(step);
        rest.split(" s").next().unwrap().parse().expect(step)
    };
    let (import, tables, total) = (secs("import"), secs("tables"), secs("total"));
    assert!(
        import > 0.0 && tables > 0.0 && secs("written") >= 0.0,
        "{line}"
    );
    assert!((import + tables - total).abs() < 0.0015, "{line}");
}

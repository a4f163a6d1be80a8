//! ClickHouse as the analytics store, against a real server on
//! 127.0.0.1:8123 (`bash .ci/run` installs and starts Debian's
//! clickhouse-server 18.16; CADRE_TEST_CLICKHOUSE names another) and, for
//! the Kafka path, a real broker (see tests/kafka.rs). Each test uses its own
//! database.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cadre_analytics::ROLLUP_COLUMNS;
use common::root as root_dir;
use common::*;
use serde_json::{Map, Value};

type Row = Map<String, Value>;

fn ch_args(addr: &str, db: &str) -> Vec<String> {
    vec![
        "--clickhouse-url".into(),
        format!("http://{addr}"),
        "--clickhouse-database".into(),
        db.into(),
    ]
}

/// `cadre query KIND --as-of AS_OF --format json` over an embedded data directory.
fn query(data: &Path, kind: &str, as_of: &str) -> Value {
    let out = run(
        cadre(data).args(["query", kind, "--as-of", as_of, "--format", "json"]),
        0,
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rows(answer: &Value, table: &str) -> Vec<Row> {
    answer["tables"][table]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no table {table}"))
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

/// Same number (both null, or within 1e-9).
fn same(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: {x} vs {y}"),
        _ => assert_eq!(a.is_null(), b.is_null(), "{what}: {a} vs {b}"),
    }
}

/// Compares rows keyed by `key`: every embedded row is in ClickHouse with the same `columns`.
fn compare(embedded: &[Row], warehouse: &[Row], key: &[&str], columns: &[&str], what: &str) {
    assert_eq!(embedded.len(), warehouse.len(), "{what}: row counts");
    let k = |r: &Row| -> Vec<String> { key.iter().map(|c| r[*c].to_string()).collect() };
    for e in embedded {
        let w = warehouse
            .iter()
            .find(|w| k(w) == k(e))
            .unwrap_or_else(|| panic!("{what}: {:?} missing from ClickHouse", k(e)));
        for c in columns {
            same(&e[*c], &w[*c], &format!("{what} {:?} {c}", k(e)));
        }
    }
}

/// Gap roll-ups and training needs in ClickHouse equal the embedded pipeline's.
fn assert_same_gaps(addr: &str, db: &str, embedded: &Path, as_of: &str) {
    let gaps = query(embedded, "gaps", as_of);
    let mut unit_cols = vec!["headcount"];
    unit_cols.extend(ROLLUP_COLUMNS);
    compare(
        &rows(&gaps, "units"),
        &ch(addr, db, "SELECT * FROM cadre_rollup_by_unit"),
        &["unit_id"],
        &unit_cols,
        "units",
    );
    compare(
        &rows(&gaps, "competencies"),
        &ch(
            addr,
            db,
            "SELECT * FROM cadre_rollup_by_competency WHERE unit_id = ''",
        ),
        &["competency_id"],
        // the per-competency view carries the pair figures, not the people ones
        &ROLLUP_COLUMNS
            .into_iter()
            .filter(|c| {
                ![
                    "people_with_requirements",
                    "mean_role_fit",
                    "role_fit_people",
                ]
                .contains(c)
            })
            .collect::<Vec<_>>(),
        "competencies",
    );
    let needs = query(embedded, "training-needs", as_of);
    compare(
        &rows(&needs, "needs"),
        &ch(
            addr,
            db,
            "SELECT * FROM cadre_training_needs WHERE unit_id = ''",
        ),
        &["competency_id"],
        &[
            "total_weighted_gap",
            "people_affected",
            "mean_gap_affected",
            "borich_score",
        ],
        "training needs",
    );
}

/// Succession tables and monthly trends in ClickHouse equal the embedded pipeline's.
fn assert_same_succession_and_trends(addr: &str, db: &str, embedded: &Path, as_of: &str) {
    let succ = query(embedded, "succession", as_of);
    compare(
        &rows(&succ, "positions"),
        &ch(addr, db, "SELECT * FROM cadre_current_succession_positions"),
        &["position_id"],
        &[
            "candidates",
            "ready_now",
            "ready_1_2_years",
            "ready_3_plus_years",
            "not_ready",
            "bench_strength",
            "discounted_bench",
        ],
        "succession positions",
    );
    let risks = |rs: &[Row]| -> Vec<(String, String)> {
        let mut v: Vec<_> = rs
            .iter()
            .map(|r| (r["position_id"].to_string(), r["risk"].to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        risks(&rows(&succ, "positions")),
        risks(&ch(
            addr,
            db,
            "SELECT * FROM cadre_current_succession_positions"
        )),
        "risk of every position"
    );
    compare(
        &rows(&succ, "candidates"),
        &ch(
            addr,
            db,
            "SELECT * FROM cadre_current_succession_candidates",
        ),
        &["position_id", "candidate_id"],
        &["role_fit", "candidacies", "performance"],
        "succession candidates",
    );
    let trends = query(embedded, "trends", as_of);
    let months: Vec<Row> = ch(
        addr,
        db,
        "SELECT toString(month_end) AS m, * FROM cadre_trends WHERE unit_id = '' ORDER BY month_end",
    );
    let succ_months = ch(
        addr,
        db,
        "SELECT * FROM cadre_succession_trends ORDER BY month_end",
    );
    let embedded_months = rows(&trends, "trends");
    assert_eq!(embedded_months.len(), months.len(), "months of trends");
    for ((e, w), s) in embedded_months.iter().zip(&months).zip(&succ_months) {
        let when = e["as_of"].as_str().unwrap();
        assert_eq!(
            w["m"].as_str().unwrap(),
            when[..19].replace('T', " "),
            "month ends"
        );
        for c in ["headcount", "coverage", "staleness", "mean_gap"] {
            same(&e[c], &w[c], &format!("trend {when} {c}"));
        }
        same(
            &e["succession_coverage"],
            &s["coverage"],
            &format!("trend {when} succession coverage"),
        );
        same(
            &e["mean_bench_strength"],
            &s["mean_bench_strength"],
            &format!("trend {when} bench"),
        );
        same(
            &e["positions_at_risk"],
            &s["red"],
            &format!("trend {when} positions at risk"),
        );
    }
}

/// Runs the SQL of every Grafana panel and template variable in dashboards/
/// on the database, with the organisation's root unit selected; each must
/// answer with at least one row.
fn check_dashboards(addr: &str, db: &str) {
    let root = ch(
        addr,
        db,
        "SELECT unit_id FROM cadre_current_units WHERE depth = 1",
    )[0]["unit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let provisioning = std::fs::read_to_string(
        root_dir().join("dashboards/provisioning/datasources/clickhouse.yaml"),
    )
    .unwrap();
    assert!(provisioning.contains("uid: cadre-clickhouse"));
    let mut files: Vec<_> = std::fs::read_dir(root_dir().join("dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 4, "overview, gaps, training needs, succession");
    let mut uids = std::collections::BTreeSet::new();
    let mut panels = 0;
    for f in files {
        let d: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert!(
            uids.insert(d["uid"].as_str().unwrap().to_string()),
            "uid of {f:?} unique"
        );
        let vars = d["templating"]["list"].as_array().unwrap();
        for v in vars {
            let got = ch(addr, db, v["query"].as_str().unwrap());
            assert!(
                got.iter().any(|r| r["unit_id"] == root.as_str()),
                "{f:?} variable lists the root"
            );
        }
        for p in d["panels"].as_array().unwrap() {
            let title = p["title"].as_str().unwrap();
            assert_eq!(p["datasource"]["uid"], "cadre-clickhouse", "{title}");
            for t in p["targets"].as_array().unwrap() {
                assert_eq!(t["datasource"]["uid"], "cadre-clickhouse", "{title}");
                let sql = t["rawSql"].as_str().unwrap().replace("${unit}", &root);
                let got = ch(addr, db, &sql);
                assert!(
                    !got.is_empty(),
                    "{f:?} panel {title:?} shows nothing: {sql}"
                );
                panels += 1;
            }
        }
    }
    assert!(panels >= 20, "{panels} panels");
}

#[test]
fn migrations_apply_once_and_an_export_matches_the_embedded_pipeline_without_doubling() {
    let addr = clickhouse();
    let db = ch_database("export");
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 250, 31);
    let args = ch_args(&addr, &db);

    let first = run(cadre(&data).args(["clickhouse", "migrate"]).args(&args), 0);
    assert!(String::from_utf8_lossy(&first.stderr).contains("applied migration 2 (views)"));
    let again = run(cadre(&data).args(["clickhouse", "migrate"]).args(&args), 0);
    assert!(String::from_utf8_lossy(&again.stderr).contains("schema up to date"));
    let versions: Vec<u64> = ch(
        &addr,
        &db,
        "SELECT version FROM cadre_schema_migrations FINAL ORDER BY version",
    )
    .iter()
    .map(|r| r["version"].as_u64().unwrap())
    .collect();
    assert_eq!(versions, [1, 2]);

    let as_of = format!("{END}T23:59:59Z");
    run(
        cadre(&data)
            .args(["clickhouse", "export", "--as-of", &as_of])
            .args(&args),
        0,
    );
    let events = status(&data)["events"].as_u64().unwrap();
    let count = |sql: &str| ch(&addr, &db, sql)[0]["n"].as_u64().unwrap();
    assert_eq!(count("SELECT count() AS n FROM cadre_events FINAL"), events);
    assert_same_gaps(&addr, &db, &data, &as_of);
    assert_same_succession_and_trends(&addr, &db, &data, &as_of);
    check_dashboards(&addr, &db);

    // a crash after ClickHouse took the events but before the cursor was
    // written: everything is sent again, and no figure doubles
    std::fs::remove_file(data.join("clickhouse-cursor.json")).unwrap();
    run(
        cadre(&data)
            .args(["clickhouse", "export", "--as-of", &as_of])
            .args(&args),
        0,
    );
    assert!(count("SELECT count() AS n FROM cadre_events") >= events);
    assert_eq!(count("SELECT count() AS n FROM cadre_events FINAL"), events);
    assert_eq!(
        count("SELECT uniqExact(event_id) AS n FROM cadre_events"),
        events
    );
    ch(&addr, &db, "OPTIMIZE TABLE cadre_events FINAL");
    assert_eq!(
        count("SELECT count() AS n FROM cadre_events"),
        events,
        "merged"
    );
    assert_eq!(count("SELECT count() AS n FROM cadre_exports"), 2);
    // an export that died half-way (rows, no cadre_exports row) is never read
    ch(
        &addr,
        &db,
        "INSERT INTO cadre_gap_partials (shard, export_id, unit_id, competency_id, category, required_pairs) \
         VALUES ('main', 18446744073709551000, '', 'x', 'x', 1000000)",
    );
    assert_same_gaps(&addr, &db, &data, &as_of);
    assert_same_succession_and_trends(&addr, &db, &data, &as_of);
}

#[test]
fn two_instances_of_a_consumer_group_write_partials_that_add_up() {
    let addr = clickhouse();
    let b = broker();
    let (topic, dlq, group) = names("chsplit");
    let db = ch_database("split");
    let tmp = tempfile::tempdir().unwrap();
    let kafka = kafka_args(&b, &topic, &dlq);
    let (da, dbb) = (tmp.path().join("a"), tmp.path().join("b"));
    let a = consume(&da, &kafka, &group, 12);
    let c = consume(&dbb, &kafka, &group, 12);
    std::thread::sleep(Duration::from_secs(6));
    let file = tmp.path().join("events.ndjson");
    generate(&file, 200, 32);
    run(cadre(tmp.path()).arg("produce").arg(&file).args(&kafka), 0);
    finish(a);
    finish(c);

    // the same file through the embedded pipeline
    let embedded = tmp.path().join("embedded");
    run(cadre(&embedded).arg("ingest").arg(&file), 0);

    let as_of = format!("{END}T23:59:59Z");
    for (dir, shard) in [(&da, "a"), (&dbb, "b")] {
        // succession needs every employee: neither half writes it
        std::fs::write(dir.join("cadre.toml"), "[clickhouse]\nsuccession = false\n").unwrap();
        run(
            cadre(dir)
                .args(["clickhouse", "export", "--as-of", &as_of, "--shard", shard])
                .args(ch_args(&addr, &db)),
            0,
        );
    }
    let heads = ch(
        &addr,
        &db,
        "SELECT shard, sum(headcount) AS n FROM cadre_people_partials WHERE unit_id = '' GROUP BY shard ORDER BY shard",
    );
    assert_eq!(heads.len(), 2, "{heads:?}");
    let total = rows(&query(&embedded, "gaps", &as_of), "units")
        .iter()
        .find(|r| r["parent_id"].is_null())
        .unwrap()["headcount"]
        .as_u64()
        .unwrap();
    let (ha, hb) = (
        heads[0]["n"].as_u64().unwrap(),
        heads[1]["n"].as_u64().unwrap(),
    );
    assert!(
        ha > 0 && hb > 0 && ha + hb == total,
        "a {ha} + b {hb} = {total}"
    );
    assert_same_gaps(&addr, &db, &embedded, &as_of);
    let events = ch(&addr, &db, "SELECT count() AS n FROM cadre_events FINAL")[0]["n"]
        .as_u64()
        .unwrap();
    assert_eq!(events, status(&embedded)["events"].as_u64().unwrap());
}

/// A TCP proxy to ClickHouse that can be cut: while down, connections are refused.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
}

impl Proxy {
    fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(false));
        let (flag, target) = (up.clone(), target.to_string());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 65536];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Proxy { port, up }
    }
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1.0)
}

fn wait_for(what: &str, secs: u64, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("timed out after {secs} s waiting for {what}");
}

#[test]
fn kafka_to_clickhouse_buffers_while_clickhouse_is_away_and_equals_the_embedded_pipeline() {
    let addr = clickhouse();
    let b = broker();
    let (topic, dlq, group) = names("chkafka");
    let db = ch_database("kafka");
    let tmp = tempfile::tempdir().unwrap();
    let proxy = Proxy::start(&addr);
    let config = tmp.path().join("cadre.toml");
    std::fs::write(
        &config,
        format!(
            "[clickhouse]\nurl = \"http://127.0.0.1:{}\"\ndatabase = \"{db}\"\nexport_interval_secs = 1\n",
            proxy.port
        ),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let kafka = kafka_args(&b, &topic, &dlq);
    let mut serve_args = vec!["--kafka", "--group", &group, "--clickhouse"];
    serve_args.extend(&kafka);
    let server = Server::start_serving(
        &data,
        "ingest-secret-0123456789",
        &["--config", config.to_str().unwrap()],
        &serve_args,
    );
    let file = tmp.path().join("events.ndjson");
    generate(&file, 150, 33);
    let n = event_ids(&file).len() as f64;
    run(cadre(tmp.path()).arg("produce").arg(&file).args(&kafka), 0);

    // ClickHouse is away: every event is stored locally and waits
    let metrics = || String::from_utf8(server.get("/metrics").1).unwrap();
    wait_for("the backlog to hold every event", 60, || {
        let m = metrics();
        metric(&m, "cadre_clickhouse_backlog_events") == n
            && metric(&m, "cadre_clickhouse_failures_total") >= 1.0
    });
    promtool_check(&metrics());

    // back: the backlog drains and an export covers every event
    proxy.up.store(true, Ordering::SeqCst);
    wait_for("the backlog to drain and an export to cover it", 90, || {
        let m = metrics();
        metric(&m, "cadre_clickhouse_backlog_events") == 0.0
            && metric(&m, "cadre_clickhouse_exported_events") == n
    });
    let m = metrics();
    assert!(
        metric(
            &m,
            "cadre_clickhouse_rows_written_total{table=\"cadre_events\"}"
        ) >= n
    );
    promtool_check(&m);
    let count = ch(&addr, &db, "SELECT count() AS n FROM cadre_events FINAL")[0]["n"]
        .as_f64()
        .unwrap();
    assert_eq!(count, n, "every event once");

    // the figures equal the embedded pipeline's on the same file, as of the export
    let latest = ch(
        &addr,
        &db,
        "SELECT toString(as_of) AS t FROM cadre_latest_exports",
    );
    let as_of = format!("{}Z", latest[0]["t"].as_str().unwrap().replace(' ', "T"));
    let embedded = tmp.path().join("embedded");
    run(cadre(&embedded).arg("ingest").arg(&file), 0);
    assert_same_gaps(&addr, &db, &embedded, &as_of);
    assert_same_succession_and_trends(&addr, &db, &embedded, &as_of);
}

//! Kafka as the event source, against a real Kafka-protocol broker on
//! 127.0.0.1:9092 (`bash .ci/run` starts tansu there; CADRE_TEST_KAFKA
//! names another). Each test uses its own topics and group.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn produce_and_consume_round_trip_with_a_poison_message() {
    let b = broker();
    let (topic, dlq, group) = names("roundtrip");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    generate(&file, 120, 21);
    let mut ids = event_ids(&file);
    // two poison lines among the good ones
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("{\"this is\": not json\n");
    text.push_str("{\"event_id\": \"5b6f3a52-9c1e-4a0e-8f3b-2d1c0e9f7a61\", \"type\": \"employee.hired\", \"schema_version\": 1, \"occurred_at\": \"2026-01-01T00:00:00Z\", \"recorded_at\": \"2026-01-01T00:00:00Z\", \"source\": \"t\", \"subject\": \"e-1\", \"data\": {\"name\": 7}}\n");
    std::fs::write(&file, text).unwrap();
    let args = kafka_args(&b, &topic, &dlq);
    run(cadre(tmp.path()).arg("produce").arg(&file).args(&args), 0);

    let data = tmp.path().join("data");
    let totals = finish(consume(&data, &args, &group, 4));
    assert_eq!(totals["accepted"], ids.len());
    assert_eq!(totals["rejected"], 2);
    let mut stored = stored_ids(&data);
    assert_eq!(stored.len(), ids.len(), "every valid event once");
    stored.sort();
    ids.sort();
    assert_eq!(stored, ids);

    // the poison went to the dead-letter topic with its reason, and to the local store
    let cfg = cadre_kafka::KafkaConfig {
        brokers: b.clone(),
        topic: topic.clone(),
        dlq_topic: dlq.clone(),
        group: group.clone(),
        ..Default::default()
    };
    let dead = cadre_kafka::read_dead_letters(&cfg, Duration::from_secs(3)).unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    let broken = dead
        .iter()
        .find(|d| d.0.starts_with("{\"this is\""))
        .unwrap();
    assert!(
        broken.1["cadre.reason"].contains("not valid JSON"),
        "{broken:?}"
    );
    let typed = dead.iter().find(|d| d.0.contains("5b6f3a52")).unwrap();
    assert_eq!(typed.1["cadre.path"], "/data/name");
    assert_eq!(typed.1["cadre.source.topic"], topic);
    let local = run(cadre(&data).arg("dead-letters"), 0);
    assert_eq!(String::from_utf8(local.stdout).unwrap().lines().count(), 2);

    // consuming again from the same group reads nothing: the offsets were committed
    let again = finish(consume(&data, &args, &group, 3));
    assert_eq!(again["messages"], 0);
}

#[test]
fn two_consumers_in_one_group_split_the_partitions() {
    let b = broker();
    let (topic, dlq, group) = names("split");
    let tmp = tempfile::tempdir().unwrap();
    let args = kafka_args(&b, &topic, &dlq);
    let (da, db) = (tmp.path().join("a"), tmp.path().join("b"));
    // both join before anything is published, so no rebalance happens mid-stream
    let a = consume(&da, &args, &group, 12);
    let c = consume(&db, &args, &group, 12);
    std::thread::sleep(Duration::from_secs(6));
    let file = tmp.path().join("events.ndjson");
    generate(&file, 150, 22);
    run(cadre(tmp.path()).arg("produce").arg(&file).args(&args), 0);
    let (ta, tb) = (finish(a), finish(c));
    let (sa, sb): (BTreeSet<String>, BTreeSet<String>) = (
        stored_ids(&da).into_iter().collect(),
        stored_ids(&db).into_iter().collect(),
    );
    assert!(
        !sa.is_empty() && !sb.is_empty(),
        "both consumers got partitions: {ta} {tb}"
    );
    // reference events went to every partition, each employee's events to one
    let reference: BTreeSet<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| cadre_kafka::is_reference(v["type"].as_str().unwrap()))
        .map(|v| v["event_id"].as_str().unwrap().to_string())
        .collect();
    assert!(!reference.is_empty());
    let both: BTreeSet<String> = sa.intersection(&sb).cloned().collect();
    assert_eq!(both, reference, "only reference events are in both");
    let all: BTreeSet<String> = event_ids(&file).into_iter().collect();
    let union: BTreeSet<String> = sa.union(&sb).cloned().collect();
    assert_eq!(union, all, "together they hold every event");
}

#[test]
fn a_consumer_killed_mid_stream_loses_nothing_and_doubles_nothing() {
    let b = broker();
    let (topic, dlq, group) = names("kill");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    generate(&file, 600, 23);
    let ids = event_ids(&file);
    let args = kafka_args(&b, &topic, &dlq);
    run(cadre(tmp.path()).arg("produce").arg(&file).args(&args), 0);
    // small batches, so a kill lands between commits
    let config = tmp.path().join("small-batches.toml");
    std::fs::write(&config, "[kafka]\nbatch_size = 40\nbatch_wait_ms = 20\n").unwrap();
    let mut with_config = args.clone();
    with_config.extend(["--config", config.to_str().unwrap()]);
    let data = tmp.path().join("data");
    let mut kills = 0;
    for _ in 0..3 {
        let mut child = consumer(&data, &with_config, &group, 5)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // wait until part of the stream is stored, then kill -9
        let deadline = Instant::now() + Duration::from_secs(60);
        let seg = data.join("log");
        let mut stored = 0;
        while Instant::now() < deadline {
            stored = std::fs::read_dir(&seg)
                .map(|d| {
                    d.filter_map(|e| e.ok()?.metadata().ok())
                        .map(|m| m.len())
                        .sum::<u64>()
                })
                .unwrap_or(0);
            if stored > 30_000 * (kills + 1) {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        assert!(stored > 0);
    }
    assert!(kills >= 1, "at least one kill landed mid-stream");
    // restart and let it finish; idle longer than the session timeout (10 s),
    // so the killed members' partitions come back to the group first
    let totals = finish(consume(&data, &with_config, &group, 15));
    let stored = stored_ids(&data);
    let unique: BTreeSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "nothing stored twice");
    assert_eq!(
        stored.len(),
        ids.len(),
        "nothing lost ({kills} kills; last run {totals})"
    );
    let want: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique, want);
}

#[test]
fn a_server_consuming_kafka_shows_what_file_ingest_shows() {
    let b = broker();
    let (topic, dlq, group) = names("serve");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("events.ndjson");
    generate(&file, 200, 24);
    let n = event_ids(&file).len();
    // the embedded reference: the same file through `cadre ingest`
    let reference = tmp.path().join("reference");
    run(cadre(&reference).arg("ingest").arg(&file), 0);

    let data = tmp.path().join("served");
    let mut serve_args = kafka_args(&b, &topic, &dlq);
    serve_args.extend(["--kafka", "--group", &group]);
    let server = Server::start_serving(&data, "ingest-token-0123456789", &[], &serve_args);
    run(
        cadre(tmp.path())
            .arg("produce")
            .arg(&file)
            .args(kafka_args(&b, &topic, &dlq)),
        0,
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status = server.get_json("/v1/status");
        if status["events"] == n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server stored {} of {n}",
            status["events"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for kind in ["gaps", "succession", "training-needs"] {
        let served = server.get_json(&format!("/v1/query/{kind}?as_of={END}"));
        let out = run(
            cadre(&reference).args(["query", kind, "--as-of", END, "--format", "json"]),
            0,
        );
        let local: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            served == local,
            "{kind}: Kafka-fed and file-fed figures differ"
        );
    }
    // metrics: events by channel, the lag per partition (0 once all is
    // consumed), valid for promtool
    let lags = |m: &str| -> Vec<String> {
        m.lines()
            .filter(|l| l.starts_with("cadre_kafka_consumer_lag_messages{"))
            .map(str::to_string)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let (_, m) = server.get("/metrics");
        let m = String::from_utf8(m).unwrap();
        let l = lags(&m);
        if (!l.is_empty() && l.iter().all(|x| x.ends_with(" 0"))) || Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        metrics.contains(&format!(
            "cadre_events_total{{channel=\"kafka\",outcome=\"accepted\"}} {n}"
        )),
        "{metrics}"
    );
    assert_eq!(
        lags(&metrics).len(),
        3,
        "one lag per partition: {:?}",
        lags(&metrics)
    );
    assert!(
        lags(&metrics).iter().all(|x| x.ends_with(" 0")),
        "{:?}",
        lags(&metrics)
    );
    promtool_check(&metrics);
}

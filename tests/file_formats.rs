//! Files and requests share their decoders: every valid example event the
//! API accepts is accepted from a file too, in the same format (one JSON
//! event, or a JSON array), and stored once whichever way it came first.

mod common;

use common::{cadre, root, run, status, Server};

#[test]
fn a_json_file_is_read_as_the_api_reads_a_json_body() {
    let tmp = tempfile::tempdir().unwrap();
    let examples = root().join("schemas/examples/valid");
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("framework.published"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "examples of framework.published in {examples:?}"
    );

    // from files: each file holds one pretty-printed event
    let data = tmp.path().join("files");
    let mut ingest = cadre(&data);
    ingest.arg("ingest").args(&files);
    let out = run(&mut ingest, 0);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("1 accepted"), "{said}");
    assert_eq!(status(&data)["events"], files.len());
    assert_eq!(status(&data)["dead_letters"], 0);

    // the same events as one JSON array in one file
    let array: Vec<serde_json::Value> = files
        .iter()
        .map(|f| serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap())
        .collect();
    let array_file = tmp.path().join("frameworks.json");
    std::fs::write(&array_file, serde_json::to_vec_pretty(&array).unwrap()).unwrap();
    let other = tmp.path().join("array");
    run(cadre(&other).arg("ingest").arg(&array_file), 0);
    assert_eq!(status(&other)["events"], files.len());
    // again: every one a duplicate, nothing stored twice
    let out = run(cadre(&other).arg("ingest").arg(&array_file), 0);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains(&format!("{} duplicate", files.len())),
        "{said}"
    );
    assert_eq!(status(&other)["events"], files.len());

    // over HTTP, the array file's bytes as a body: the same events, already stored
    let server = Server::start(&data, "file-formats-token");
    let (code, body) = server.post_events(&std::fs::read(&array_file).unwrap());
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["duplicate"], files.len(), "{body}");
    server.stop();
}

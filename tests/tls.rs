//! TLS and secrets: `cadre serve --tls-cert --tls-key` speaks HTTPS only
//! (checked with curl against a certificate made by openssl); a bad pair
//! stops the start with a clear message; tokens come from a file or the
//! environment, never the command line, and never appear in the output.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A self-signed certificate for 127.0.0.1 and its key, made by openssl.
fn certificate(dir: &Path, name: &str) -> (String, String) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (bash .ci/run installs it)");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        cert.to_str().unwrap().to_string(),
        key.to_str().unwrap().to_string(),
    )
}

/// curl over HTTPS trusting `ca`: (exit code, HTTP status, body).
fn curl(ca: Option<&str>, url: &str, extra: &[&str]) -> (i32, u16, String) {
    let mut c = Command::new("curl");
    c.args(["-sS", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"]);
    if let Some(ca) = ca {
        c.args(["--cacert", ca]);
    }
    let out = c.args(extra).arg(url).output().expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        out.status.code().unwrap_or(-1),
        code.trim().parse().unwrap_or(0),
        body.to_string(),
    )
}

#[test]
fn serve_speaks_https_with_the_given_certificate_and_never_prints_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let data = demo_data(tmp.path(), 30, 2);
    let (cert, key) = certificate(tmp.path(), "server");
    let token = "tls-ingest-secret-7f3a";
    let token_file = tmp.path().join("ingest.secret");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let port = free_port();
    let stderr = tmp.path().join("serve.err");
    let mut child = cadre(&data)
        .args(["serve", "--port", &port.to_string(), "--token-file"])
        .arg(&token_file)
        .args(["--tls-cert", &cert, "--tls-key", &key])
        .env("CADRE_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("cadre serve starts");
    let base = format!("https://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, code, _) = curl(Some(&cert), &format!("{base}/health"), &[]);
        if code == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no HTTPS answer on {port}");
        assert!(
            child.try_wait().unwrap().is_none(),
            "serve exited: {}",
            std::fs::read_to_string(&stderr).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, code, body) = curl(Some(&cert), &format!("{base}/health"), &[]);
    assert_eq!((code, body.trim()), (200, r#"{"status":"ok"}"#));

    // events go in over TLS with the token from the file
    let event = r#"{"event_id":"00000000-0000-4000-8000-00000000e001","type":"employee.hired","schema_version":1,"occurred_at":"2026-01-01T00:00:00Z","recorded_at":"2026-01-01T00:00:00Z","source":"tls-test","subject":"tls-1","data":{"name":"Tee Ellis"}}"#;
    let auth = format!("Authorization: Bearer {token}");
    let (_, code, body) = curl(
        Some(&cert),
        &format!("{base}/v1/events"),
        &[
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            event,
        ],
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""accepted":1"#), "{body}");
    let admin = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let admin_auth = format!("Authorization: Bearer {}", admin.trim());
    let (_, code, body) = curl(
        Some(&cert),
        &format!("{base}/v1/status"),
        &["-H", &admin_auth],
    );
    assert_eq!(code, 200, "{body}");

    // under TLS the sign-in cookie is Secure and browsers are told to stay on HTTPS
    let login = format!("token={}", admin.trim());
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--cacert",
            &cert,
        ])
        .args(["--data-binary", &login, &format!("{base}/login")])
        .output()
        .expect("curl is installed");
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    let cookie = head
        .lines()
        .find(|l| l.starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {head}"));
    assert!(cookie.contains("; secure"), "{cookie}");
    assert!(
        !cookie.contains(&admin.trim().to_ascii_lowercase()),
        "{cookie}"
    );
    assert!(
        head.contains("strict-transport-security: max-age=31536000"),
        "{head}"
    );

    // a client that does not trust the certificate refuses it (curl exit 60)
    let (exit, _, _) = curl(None, &format!("{base}/health"), &[]);
    assert_eq!(exit, 60, "an untrusted certificate is refused");
    // plain HTTP on the TLS port gets no HTTP answer
    let plain = http(port, "GET", "/health", &[], b"");
    assert!(plain.is_err(), "plain HTTP answered: {plain:?}");
    // a client that connects and says nothing is dropped, the server goes on
    let silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (_, code, _) = curl(Some(&cert), &format!("{base}/health"), &[]);
    assert_eq!(code, 200);
    drop(silent);

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "serve stops cleanly: {status}");
    let printed = std::fs::read_to_string(&stderr).unwrap();
    assert!(
        printed.contains(&format!("https://127.0.0.1:{port}")),
        "{printed}"
    );
    assert!(
        !printed.contains(token),
        "the ingest token was printed:\n{printed}"
    );
    assert!(
        !printed.contains(admin.trim()),
        "the admin token was printed:\n{printed}"
    );
}

#[test]
fn a_bad_certificate_or_a_token_on_the_command_line_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (cert, _) = certificate(tmp.path(), "one");
    let (_, other_key) = certificate(tmp.path(), "two");
    let port = free_port().to_string();
    let out = run(
        cadre(&data).args([
            "serve",
            "--port",
            &port,
            "--tls-cert",
            &cert,
            "--tls-key",
            &other_key,
        ]),
        1,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not usable together"), "{err}");
    let out = run(
        cadre(&data).args(["serve", "--port", &port, "--tls-cert", &cert]),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
    let missing = tmp.path().join("missing.pem");
    let out = run(
        cadre(&data)
            .args(["serve", "--port", &port, "--tls-cert"])
            .arg(&missing)
            .args(["--tls-key", &other_key]),
        1,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
    // a secret on the command line would be visible to every user of the machine
    let out = run(
        cadre(&data).args(["serve", "--port", &port, "--token", "s3cret"]),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token"));
}

//! PDF by printing the HTML page with headless Chromium.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// No Chromium to print with.
    #[error("no Chromium found to print the PDF: install it (Debian: apt-get install chromium) or set CADRE_CHROMIUM to its path; --format html needs nothing")]
    NoChromium,
    /// Files could not be written or read.
    #[error("cannot prepare the PDF: {0}")]
    Io(#[from] std::io::Error),
    /// Chromium failed or took too long.
    #[error("Chromium could not print the PDF: {0}")]
    Print(String),
}

/// The Chromium to use: `CADRE_CHROMIUM`, or the first of the usual names on the PATH.
pub fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CADRE_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// Prints a self-contained HTML page to PDF (A4, no header or footer).
pub fn html_to_pdf(html: &str) -> Result<Vec<u8>, PdfError> {
    let exe = chromium().ok_or(PdfError::NoChromium)?;
    let dir = tempfile::tempdir()?;
    let page = dir.path().join("report.html");
    let out = dir.path().join("report.pdf");
    std::fs::write(&page, html)?;
    // a file, not a pipe: nobody reads a pipe while Chromium runs
    let log = dir.path().join("chromium.log");
    let mut child = Command::new(&exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .map_err(|e| PdfError::Print(format!("cannot start {}: {e}", exe.display())))?;
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PdfError::Print("no PDF after 90 s".into()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    match std::fs::read(&out) {
        Ok(bytes) if bytes.starts_with(b"%PDF") => Ok(bytes),
        _ => {
            let err = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: String = err.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            Err(PdfError::Print(format!("exit {status}; {tail}")))
        }
    }
}

//! LibreOffice Calc, headless, as the spreadsheet under test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `soffice` binary (`$SOFFICE` if set, else the usual places and `PATH`), or `None`
/// (with a message) when LibreOffice is missing. Under CI (`CI=true`) a missing LibreOffice
/// fails the test instead: a skipped check is no check.
pub fn soffice() -> Option<PathBuf> {
    let found = match std::env::var_os("SOFFICE") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.exists()),
        None => ["/usr/bin/soffice", "/usr/local/bin/soffice"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .or_else(|| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|dir| dir.join("soffice"))
                        .find(|p| p.exists())
                })
            }),
    };
    if found.is_none() {
        let message = "LibreOffice (soffice) is not installed: the spreadsheet checks cannot run \
                       (apt-get install libreoffice-calc-nogui)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    found
}

/// Opens `input` in Calc — with `infilter` as the import settings, if given — and saves it as
/// XLSX in `out_dir`; returns the converted file. Each call uses its own fresh profile, so
/// conversions can run in parallel.
///
/// A freshly installed LibreOffice sometimes exits without converting on its very first start
/// (it is still building its caches), so a failed conversion is tried again, twice at most;
/// the last failure is reported with soffice's output.
pub fn convert_to_xlsx(
    soffice: &Path,
    input: &Path,
    infilter: Option<&str>,
    out_dir: &Path,
) -> PathBuf {
    let mut attempt = 1;
    loop {
        match try_convert(soffice, input, infilter, out_dir) {
            Ok(converted) => return converted,
            Err(failure) if attempt < 3 => {
                let _ = writeln!(
                    std::io::stderr(),
                    "soffice attempt {attempt} failed, trying again: {failure}"
                );
                attempt += 1;
            }
            Err(failure) => panic!("{failure}"),
        }
    }
}

fn try_convert(
    soffice: &Path,
    input: &Path,
    infilter: Option<&str>,
    out_dir: &Path,
) -> Result<PathBuf, String> {
    let profile = tempfile::tempdir().unwrap();
    let mut command = Command::new(soffice);
    command.arg("--headless").arg("--norestore").arg(format!(
        "-env:UserInstallation=file://{}",
        profile.path().display()
    ));
    if let Some(filter) = infilter {
        command.arg(format!("--infilter={filter}"));
    }
    command
        .arg("--convert-to")
        .arg("xlsx")
        .arg("--outdir")
        .arg(out_dir)
        .arg(input)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("soffice starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!(
                "soffice did not finish converting {} in 180 s",
                input.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stem = input.file_stem().unwrap().to_str().unwrap();
    let converted = out_dir.join(format!("{stem}.xlsx"));
    if output.status.success() && converted.exists() {
        return Ok(converted);
    }
    Err(format!(
        "soffice failed to convert {} ({}): {}\n{}",
        input.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

//! `actlog-bench all` at tiny sizes: it runs every benchmark on every shape and writes figures
//! a program can read. Nothing here looks at the figures' values (no test times anything).

use std::process::Command;

use serde_json::Value;

#[test]
fn all_runs_every_shape_and_writes_its_figures_as_json() {
    if Command::new("sqlite3").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "under CI=true the sqlite3 shell must be installed"
        );
        eprintln!("SKIPPED: no sqlite3 shell (apt-get install sqlite3)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figures.json");
    let run = Command::new(env!("CARGO_BIN_EXE_actlog-bench"))
        .args(["all", "--records", "500", "--export-records", "500"])
        .args(["--seconds", "1", "--runs", "1", "--out"])
        .arg(&out)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("== all figures =="), "{stdout}");

    let document: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let figures = document["figures"].as_array().unwrap();
    for shape in ["demo", "compact", "large"] {
        for bench in ["ingest", "export"] {
            let compared: Vec<&Value> = figures
                .iter()
                .filter(|f| f["shape"] == shape && f["bench"] == bench)
                .filter(|f| f["reference"].is_string())
                .collect();
            assert!(!compared.is_empty(), "no {bench} figure for {shape}");
            for f in compared {
                let (actlog, reference) = (&f["actlog"], &f["reference_value"]);
                assert!(actlog.as_f64().is_some_and(|v| v > 0.0), "{f}");
                assert!(reference.as_f64().is_some_and(|v| v > 0.0), "{f}");
                assert!(f["ratio"].as_f64().is_some(), "{f}");
            }
        }
    }
    assert!(document["machine"]["cores"].as_u64().is_some_and(|c| c > 0));
}

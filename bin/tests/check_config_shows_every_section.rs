//! `arcly check-config FILE` shows what every section of the file resolves
//! to, hooks and recording included, and never prints a secret.

use std::process::Command;

#[test]
fn every_section_is_shown_and_secrets_are_not() {
    let path = std::env::temp_dir().join(format!("arcly-check-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        r#"
admin_token = "admin-secret-value"

[hooks]
on_play = "http://127.0.0.1:9/play"

[apps.paid.hooks]
on_publish = "http://127.0.0.1:9/publish"

[record]
dir = "/var/lib/arcly/recordings"
format = "flv"
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_arcly"))
        .args(["check-config", path.to_str().unwrap()])
        .output()
        .expect("run arcly");
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "hooks = ",
        "apps.paid.hooks = ",
        "hls = ",
        "record = ",
        "admin = token required",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "no {line:?} line:\n{stdout}"
        );
    }
    assert!(stdout.contains("127.0.0.1:9/play"), "{stdout}");
    assert!(stdout.contains("Flv"), "{stdout}");
    assert!(!stdout.contains("admin-secret-value"), "{stdout}");
}

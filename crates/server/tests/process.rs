//! The real `castellan` binary as a user runs it: help texts, start-from-init with a PAT file,
//! and kill -9 in the middle of writes without losing an acknowledged write.

use castellan_testkit::{postgres, temp_dir};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_castellan");
const KEY: &str = "MasterkeyNeedsToHave32Characters";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[test]
fn help_explains_every_command() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["start", "start-from-init", "projections"] {
        assert!(text.contains(cmd), "--help does not mention {cmd}: {text}");
    }
    let out = Command::new(BIN)
        .args(["start-from-init", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("--masterkey-from-env") && text.contains("--tls-mode"),
        "{text}"
    );
    // A wrong masterkey is refused with a clear message.
    let out = Command::new(BIN)
        .args(["start", "--masterkey", "short"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 characters"));
}

struct Node {
    child: Child,
}

fn spawn(dir: &std::path::Path, db_url: &str, port: u16, init: bool) -> Node {
    let child = Command::new(BIN)
        .arg(if init { "start-from-init" } else { "start" })
        .args(["--masterkey-from-env", "--tls-mode", "disabled"])
        .current_dir(dir)
        .env("CASTELLAN_MASTERKEY", KEY)
        .env("CASTELLAN_PORT", port.to_string())
        .env("CASTELLAN_EXTERNALPORT", port.to_string())
        .env("CASTELLAN_DATABASE_URL", db_url)
        .env("CASTELLAN_FIRSTINSTANCE_PATPATH", dir.join("pat.txt"))
        .env("CASTELLAN_FIRSTINSTANCE_ORG_HUMAN_PASSWORD", "Password1!")
        .env("CASTELLAN_PASSWORDHASHER_MEMORY", "64")
        .env("CASTELLAN_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn castellan");
    let node = Node { child };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return node;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("castellan did not start on port {port}");
}

async fn add_machine(http: &reqwest::Client, port: u16, pat: &str, name: &str) -> Option<String> {
    let r = http
        .post(format!(
            "http://localhost:{port}/management/v1/users/machine"
        ))
        .header("authorization", format!("Bearer {pat}"))
        .json(&json!({"userName": name, "name": name}))
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    v["userId"].as_str().map(str::to_string)
}

/// Writes concurrently, kills the server with SIGKILL mid-stream, restarts it and checks that
/// every acknowledged write is there and the read models are consistent with the events.
async fn kill_nine(db_url: String, dir: std::path::PathBuf) {
    let port = free_port();
    let mut node = spawn(&dir, &db_url, port, true);
    let pat =
        std::fs::read_to_string(dir.join("pat.txt")).expect("PAT file written by start-from-init");
    assert_eq!(
        pat.trim(),
        pat,
        "the PAT file holds the token and nothing else"
    );
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (http, pat, acked) = (http.clone(), pat.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..10_000 {
                match add_machine(&http, port, &pat, &format!("k9-{w}-{i}")).await {
                    Some(id) => acked.lock().expect("lock").push(id),
                    None => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    node.child.kill().expect("kill -9");
    let _ = node.child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() > 20,
        "too few writes before the kill: {}",
        acked.len()
    );
    let mut node = spawn(&dir, &db_url, port, false);
    for id in &acked {
        let r = http
            .get(format!("http://localhost:{port}/management/v1/users/{id}"))
            .header("authorization", format!("Bearer {pat}"))
            .send()
            .await
            .expect("get");
        assert_eq!(
            r.status(),
            200,
            "acknowledged user {id} is lost after kill -9"
        );
    }
    // Nothing half-applied: every user.machine.added event has its read-model row and back.
    let q = json!({"aggregateTypes": ["user"], "eventTypes": ["user.machine.added"], "limit": 1000, "asc": true});
    let mut events = 0;
    let mut after = 0u64;
    loop {
        let mut body = q.clone();
        body["sequence"] = after.to_string().into();
        let r: Value = http
            .post(format!("http://localhost:{port}/admin/v1/events/_search"))
            .header("authorization", format!("Bearer {pat}"))
            .json(&body)
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("json");
        let list = r["events"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            break;
        }
        events += list.len();
        after = list
            .last()
            .and_then(|e| e["sequence"].as_str())
            .and_then(|s| s.parse().ok())
            .unwrap_or(u64::MAX);
    }
    let r: Value = http
        .post(format!(
            "http://localhost:{port}/management/v1/users/_search"
        ))
        .header("authorization", format!("Bearer {pat}"))
        .json(&json!({"queries": [{"typeQuery": {"type": "TYPE_MACHINE"}}]}))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let machines: usize = r["details"]["totalResult"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    assert_eq!(
        machines, events,
        "read model and events disagree after kill -9"
    );
    assert!(events >= acked.len());
    let _ = node.child.kill();
    let _ = node.child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_loses_no_acknowledged_write_sqlite() {
    let dir = temp_dir("k9");
    let url = format!("sqlite://{}", dir.join("data/castellan.db").display());
    kill_nine(url, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_loses_no_acknowledged_write_postgres() {
    let Some(pg) = postgres::shared() else { return };
    let url = pg.create_database().expect("database");
    kill_nine(url, temp_dir("k9pg")).await;
}

//! A real SMTP server for tests: `support/smtp_server.py` (Python's aiosmtpd) as a child
//! process on a free loopback port, storing every received message as a file.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The credentials the test server accepts.
pub const SMTP_USER: &str = "mailer";
pub const SMTP_PASSWORD: &str = "Sm7p-Secret!pw";

/// A running test SMTP server; killed on drop.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

/// One received message: envelope and raw data.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
}

impl ReceivedMail {
    /// The value of a header (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = out.as_mut().filter(|_| line.starts_with([' ', '\t'])) {
                v.push_str(line.trim_start());
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case(name) {
                    out = Some(v.trim().to_string());
                }
            }
        }
        out
    }
}

impl SmtpServer {
    /// Starts the server. Fails loudly (never skips) when python3 or aiosmtpd is missing.
    pub fn start() -> SmtpServer {
        let dir = crate::temp_dir("smtp");
        let port_file = dir.join("port");
        let mails = dir.join("mails");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&port_file)
            .arg(&mails)
            .arg(SMTP_USER)
            .arg(SMTP_PASSWORD)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.join("stderr"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the test SMTP server (python3 {script}): {e}; install Python 3 and `pip install aiosmtpd`")
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                if let Ok(port) = p.trim().parse() {
                    return SmtpServer {
                        child,
                        port,
                        dir: mails,
                    };
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                let err = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
                panic!(
                    "the test SMTP server exited ({status}) before listening; it needs Python 3 with aiosmtpd (`pip install aiosmtpd`):\n{err}"
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the test SMTP server did not listen within 20s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The messages received so far, oldest first.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map(|v| ReceivedMail {
                mail_from: v["mail_from"].as_str().unwrap_or_default().to_string(),
                rcpt_tos: v["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                data: v["data"].as_str().unwrap_or_default().to_string(),
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived (up to 10 s) and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.mails();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

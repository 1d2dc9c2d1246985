//! Throwaway PostgreSQL servers for integration tests.
//!
//! [`shared()`] hands out one server per test process. It is either the server named by
//! `CASTELLAN_TEST_DATABASE_URL` (used as is) or a private server started from the machine's
//! PostgreSQL binaries: `initdb` into a fresh directory under `/tmp`, listening on
//! `127.0.0.1:<free port>` with trust authentication and its unix socket inside that directory.
//! Each test then calls [`TestPostgres::create_database`] to get an empty database of its own.
//!
//! Only `std` is used. Databases are created with the `psql` client binary, so no Rust
//! PostgreSQL client is needed here.
//!
//! Running as root: `initdb` and `postgres` refuse to run as root, so the server processes are
//! spawned as the `postgres` system user (or `castellan-pg`, created with `useradd` when neither
//! exists). Override with `CASTELLAN_PG_USER`. The binaries are looked up in
//! `CASTELLAN_PG_BIN`, then `/usr/lib/postgresql/<newest>/bin`, `/usr/local/pgsql/bin`, then `PATH`.
//!
//! Cleanup: dropping a [`TestPostgres`] stops the server and removes its directory. The server
//! behind [`shared()`] lives in a `static` and is never dropped, so every throwaway server also
//! gets a small detached watchdog (`sh`) that holds the read end of a pipe whose write end only
//! this process holds. When the process exits for any reason (normal exit, panic, SIGKILL), the
//! pipe reaches end-of-file and the watchdog stops the server (`SIGQUIT`, i.e. immediate
//! shutdown) and deletes the directory, normally well within a second.
//!
//! Limitation with `CASTELLAN_TEST_DATABASE_URL`: databases are created through that URL with
//! `psql` (found next to the other binaries or on `PATH`); they are not dropped afterwards. If
//! `psql` is missing or `CREATE DATABASE` fails (e.g. no CREATEDB privilege), `create_database`
//! returns the given URL itself, so tests then share one database.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Environment variable naming an existing server to use instead of a throwaway one.
pub const DATABASE_URL_ENV: &str = "CASTELLAN_TEST_DATABASE_URL";
/// When set to `1`, [`shared()`] panics instead of skipping when no server is available.
pub const REQUIRE_ENV: &str = "CASTELLAN_REQUIRE_POSTGRES";

/// Superuser created by `initdb` in throwaway servers.
const SUPERUSER: &str = "castellan";
/// How long a throwaway server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How many free ports to try when the chosen one is grabbed by someone else meanwhile.
const PORT_ATTEMPTS: usize = 5;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A PostgreSQL database for one test run.
pub struct TestPostgres {
    kind: Kind,
    /// Distinguishes this run's database names from other runs' on a shared external server.
    run_tag: String,
    /// `psql` binary, if one was found.
    psql: Option<PathBuf>,
}

enum Kind {
    External { url: String },
    Local(LocalServer),
}

/// A server process started by this module, plus everything needed to clean it up.
struct LocalServer {
    bin_dir: PathBuf,
    dir: PathBuf,
    port: u16,
    server: Option<Child>,
    watchdog: Option<Child>,
    /// Write end of the watchdog's stdin; closing it (or process exit) triggers cleanup.
    watchdog_pipe: Option<ChildStdin>,
}

impl TestPostgres {
    /// Returns a server: `CASTELLAN_TEST_DATABASE_URL` when set (used as is), else a throwaway
    /// server started from the machine's PostgreSQL binaries (initdb into a fresh temp dir owned
    /// by the unprivileged user, listening on 127.0.0.1 on a free port, unix socket in that dir,
    /// fsync on). Returns Err(reason) when neither is possible.
    pub fn start() -> Result<TestPostgres, String> {
        let run_tag = run_tag();
        if let Some(url) = std::env::var(DATABASE_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
        {
            let psql = find_bin_dir()
                .map(|d| d.join("psql"))
                .filter(|p| is_executable(p))
                .or_else(|| find_in_path("psql"));
            return Ok(TestPostgres {
                kind: Kind::External {
                    url: url.trim().to_string(),
                },
                run_tag,
                psql,
            });
        }
        let local = LocalServer::start()?;
        let psql = Some(local.bin_dir.join("psql")).filter(|p| is_executable(p));
        Ok(TestPostgres {
            kind: Kind::Local(local),
            run_tag,
            psql,
        })
    }

    /// Creates a new empty database with a unique name and returns its URL
    /// (`postgres://castellan@127.0.0.1:PORT/DBNAME` for a throwaway server). With
    /// `CASTELLAN_TEST_DATABASE_URL`, the database is created through that URL; when that is
    /// impossible (no `psql`, no privilege), the given URL itself is returned.
    pub fn create_database(&self) -> Result<String, String> {
        let name = format!(
            "castellan_{}_{}",
            self.run_tag,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let sql = format!("CREATE DATABASE \"{name}\"");
        match &self.kind {
            Kind::Local(local) => {
                let psql = self
                    .psql
                    .as_ref()
                    .ok_or_else(|| format!("no psql binary in {}", local.bin_dir.display()))?;
                let base = local.url("postgres");
                run_psql(psql, &base, &sql, false)?;
                Ok(local.url(&name))
            }
            Kind::External { url } => {
                let Some(psql) = &self.psql else {
                    warn_once(&format!(
                        "no psql binary found; all tests share the database {DATABASE_URL_ENV} points at"
                    ));
                    return Ok(url.clone());
                };
                match run_psql(psql, url, &sql, true) {
                    Ok(()) => Ok(url_with_database(url, &name)),
                    Err(e) => {
                        warn_once(&format!(
                            "cannot create databases through {DATABASE_URL_ENV} ({e}); \
                             all tests share the database it points at"
                        ));
                        Ok(url.clone())
                    }
                }
            }
        }
    }

    /// URL of the server's maintenance database (`postgres`), or `CASTELLAN_TEST_DATABASE_URL`
    /// as given.
    pub fn base_url(&self) -> String {
        match &self.kind {
            Kind::External { url } => url.clone(),
            Kind::Local(local) => local.url("postgres"),
        }
    }
}

/// One shared server per test process, started on first use. When it cannot start: if
/// `CASTELLAN_REQUIRE_POSTGRES=1`, panics with the reason; else prints
/// `POSTGRES TESTS SKIPPED: <reason>` to stderr (bypassing the test harness's output capture)
/// and returns `None`.
pub fn shared() -> Option<&'static TestPostgres> {
    static SHARED: OnceLock<Result<TestPostgres, String>> = OnceLock::new();
    match SHARED.get_or_init(TestPostgres::start) {
        Ok(pg) => Some(pg),
        Err(reason) => {
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v.trim() == "1") {
                panic!("PostgreSQL required ({REQUIRE_ENV}=1) but unavailable: {reason}");
            }
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                // Written to the real stderr: `eprintln!` would be captured for passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n**********************************************************************\n\
                     POSTGRES TESTS SKIPPED: {reason}\n\
                     (set {DATABASE_URL_ENV} or install PostgreSQL; {REQUIRE_ENV}=1 makes this fatal)\n\
                     **********************************************************************"
                );
            });
            None
        }
    }
}

impl LocalServer {
    fn start() -> Result<LocalServer, String> {
        let bin_dir = find_bin_dir().ok_or_else(|| {
            "no PostgreSQL server binaries found (looked for initdb and postgres in \
             $CASTELLAN_PG_BIN, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin and PATH; \
             install the `postgresql` package or set CASTELLAN_TEST_DATABASE_URL)"
                .to_string()
        })?;
        let owner = server_user()?;

        // Under /tmp rather than $TMPDIR: the unprivileged user must be able to reach it.
        let base = if owner.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = make_temp_dir(&base)?;
        let mut local = LocalServer {
            bin_dir,
            dir,
            port: 0,
            server: None,
            watchdog: None,
            watchdog_pipe: None,
        };
        // From here on, dropping `local` (also on error) cleans up.
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&local.dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", local.dir.display()))?;
        }
        local.spawn_watchdog()?;
        local.initdb(owner)?;

        let mut last_err = String::new();
        for _ in 0..PORT_ATTEMPTS {
            match local.spawn_server(owner) {
                Ok(()) => return Ok(local),
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    fn spawn_watchdog(&mut self) -> Result<(), String> {
        // $1 = server dir. Runs as the current user (root can signal and remove anything; a
        // non-root user owns the server itself).
        const SCRIPT: &str = r#"trap '' INT HUP
read _ignored
pf="$1/data/postmaster.pid"
if [ -f "$pf" ]; then
  pid=$(head -n 1 "$pf")
  kill -QUIT "$pid" 2>/dev/null
  i=0
  while [ -f "$pf" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
    sleep 0.1; i=$((i+1))
  done
  if [ -f "$pf" ]; then kill -KILL "$pid" 2>/dev/null; sleep 0.2; fi
fi
rm -rf "$1"
"#;
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("castellan-pg-watchdog")
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawning watchdog /bin/sh: {e}"))?;
        self.watchdog_pipe = child.stdin.take();
        self.watchdog = Some(child);
        Ok(())
    }

    fn server_command(&self, program: &str, owner: Option<(u32, u32)>) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir(&self.dir)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGHOST")
            .env_remove("PGPORT")
            .env_remove("PGUSER")
            .env_remove("PGOPTIONS")
            .stdin(Stdio::null());
        if let Some((uid, gid)) = owner {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn initdb(&self, owner: Option<(u32, u32)>) -> Result<(), String> {
        let out = self
            .server_command("initdb", owner)
            .arg("-D")
            .arg(self.data_dir())
            .args(["--no-sync", "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"])
            .arg("--locale=C")
            .output()
            .map_err(|e| format!("running initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    fn spawn_server(&mut self, owner: Option<(u32, u32)>) -> Result<(), String> {
        let port = free_port()?;
        let log_path = self.dir.join("postgres.log");
        let log = fs::File::create(&log_path)
            .map_err(|e| format!("creating {}: {e}", log_path.display()))?;
        let log2 = log
            .try_clone()
            .map_err(|e| format!("cloning log handle: {e}"))?;
        let child = self
            .server_command("postgres", owner)
            .arg("-D")
            .arg(self.data_dir())
            .arg("-p")
            .arg(port.to_string())
            .arg("-c")
            .arg("listen_addresses=127.0.0.1")
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.dir.display()))
            .args(["-c", "fsync=on"])
            .args(["-c", "shared_buffers=64MB"])
            .args(["-c", "max_connections=300"])
            .stdout(log)
            .stderr(log2)
            // Own process group: a Ctrl-C aimed at the tests must not hit the server; the
            // watchdog takes care of it instead.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawning postgres: {e}"))?;
        self.port = port;
        self.server = Some(child);

        let pid_file = self.data_dir().join("postmaster.pid");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let child = self.server.as_mut().expect("server just spawned");
            if let Ok(Some(status)) = child.try_wait() {
                self.server = None;
                return Err(format!(
                    "postgres exited during startup ({status}); log:\n{}",
                    read_tail(&log_path)
                ));
            }
            // Line 8 of postmaster.pid is the postmaster status; "ready" means it accepts
            // connections (this is what `pg_ctl -w` waits for).
            if fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.lines().nth(7).map(|l| l.trim() == "ready"))
                .unwrap_or(false)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop_server();
                return Err(format!(
                    "postgres did not accept connections within {START_TIMEOUT:?}; log:\n{}",
                    read_tail(&log_path)
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Immediate shutdown (SIGQUIT), escalating to SIGKILL.
    fn stop_server(&mut self) {
        let Some(mut child) = self.server.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-QUIT")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !wait_timeout(&mut child, Duration::from_secs(10)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop_server();
        // Closing the pipe lets the watchdog finish (nothing left to stop, so it just removes
        // the directory); remove it here too in case the watchdog is gone.
        drop(self.watchdog_pipe.take());
        if let Some(mut w) = self.watchdog.take() {
            if !wait_timeout(&mut w, Duration::from_secs(15)) {
                let _ = w.kill();
                let _ = w.wait();
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        // The local server (if any) stops and cleans up in `LocalServer::drop`; spelled out
        // here so dropping order is obvious.
        if let Kind::Local(local) = &mut self.kind {
            local.stop_server();
        }
    }
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if Instant::now() > deadline => return false,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn run_psql(psql: &Path, url: &str, sql: &str, keep_env: bool) -> Result<(), String> {
    let mut cmd = Command::new(psql);
    if !keep_env {
        for var in [
            "PGSERVICE",
            "PGOPTIONS",
            "PGSSLMODE",
            "PGPASSWORD",
            "PGSERVICEFILE",
        ] {
            cmd.env_remove(var);
        }
    }
    let out = cmd
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", psql.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql `{sql}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Replaces the database part of a `postgres://` URL, keeping any query string.
fn url_with_database(url: &str, db: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let query_at = rest.find('?').unwrap_or(rest.len());
    let (before_query, query) = rest.split_at(query_at);
    let authority = match before_query.find('/') {
        Some(i) => &before_query[..i],
        None => before_query,
    };
    format!("{}{authority}/{db}{query}", &url[..rest_start])
}

fn warn_once(msg: &str) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        let _ = writeln!(std::io::stderr(), "WARNING (castellan testkit): {msg}");
    });
}

fn run_tag() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{:x}", std::process::id(), nanos % 0x1_0000_0000)
}

fn make_temp_dir(base: &Path) -> Result<PathBuf, String> {
    let mut last_err = None;
    for _ in 0..16 {
        let dir = base.join(format!(
            "castellan-pg-{}-{}",
            run_tag(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        match fs::create_dir(&dir) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .map_err(|e| format!("chmod {}: {e}", dir.display()))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(format!("creating {}: {e}", dir.display())),
        }
    }
    Err(format!(
        "creating temp dir under {}: {last_err:?}",
        base.display()
    ))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port on 127.0.0.1: {e}"))
}

fn read_tail(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let start = s.len().saturating_sub(4000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    s[start..].to_string()
}

fn is_executable(p: &Path) -> bool {
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

/// Directory holding `initdb` and `postgres` (and normally `psql`).
fn find_bin_dir() -> Option<PathBuf> {
    let has_server =
        |d: &Path| is_executable(&d.join("initdb")) && is_executable(&d.join("postgres"));
    if let Some(d) = std::env::var_os("CASTELLAN_PG_BIN").map(PathBuf::from) {
        if has_server(&d) {
            return Some(d);
        }
    }
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, d)| has_server(d))
        .collect();
    versioned.sort();
    if let Some((_, d)) = versioned.pop() {
        return Some(d);
    }
    let fallback = PathBuf::from("/usr/local/pgsql/bin");
    if has_server(&fallback) {
        return Some(fallback);
    }
    // On PATH, possibly as symlinks: resolve so initdb finds its sibling `postgres`.
    let initdb = find_in_path("initdb")?;
    let dir = fs::canonicalize(&initdb).ok()?.parent()?.to_path_buf();
    has_server(&dir).then_some(dir)
}

/// `Some((uid, gid))` of the unprivileged user to run the server as, or `None` when this
/// process is not root (the server then runs as the current user).
fn server_user() -> Result<Option<(u32, u32)>, String> {
    if effective_uid()? != 0 {
        return Ok(None);
    }
    let candidates: Vec<String> = match std::env::var("CASTELLAN_PG_USER") {
        Ok(u) if !u.trim().is_empty() => vec![u.trim().to_string()],
        _ => vec!["postgres".into(), "castellan-pg".into()],
    };
    for name in &candidates {
        if let Some(ids) = lookup_user(name) {
            return Ok(Some(ids));
        }
    }
    // Running as root and no such user: create one.
    let name = candidates.last().expect("non-empty");
    let out = Command::new("useradd")
        .args(["--system", "--no-create-home", "--user-group"])
        .args(["--shell", "/usr/sbin/nologin", name])
        .output()
        .map_err(|e| format!("running as root and no user {candidates:?}; useradd: {e}"))?;
    lookup_user(name).map(Some).ok_or_else(|| {
        format!(
            "running as root and no user {candidates:?} to run postgres as; `useradd {name}` \
             failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

fn effective_uid() -> Result<u32, String> {
    use std::os::unix::fs::MetadataExt;
    if let Ok(m) = fs::metadata("/proc/self") {
        return Ok(m.uid());
    }
    id(&["-u"]).ok_or_else(|| "cannot determine the current user id".to_string())
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    Some((id(&["-u", name])?, id(&["-g", name])?))
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::url_with_database;

    #[test]
    fn replaces_database_in_urls() {
        assert_eq!(
            url_with_database("postgres://u:p@h:5432/db?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(url_with_database("postgresql://h", "x"), "postgresql://h/x");
        assert_eq!(
            url_with_database("postgres:///db?host=/run", "x"),
            "postgres:///x?host=/run"
        );
        assert_eq!(url_with_database("postgres://h/", "x"), "postgres://h/x");
    }
}

//! The database handle: a pool of reader connections and one writer thread that batches
//! concurrent commands into one durable commit (group commit), each command in its own
//! savepoint so that a failing command never takes its neighbours down with it.

use crate::conn::{Conn, DbError, Dialect};
use crate::pg::Pg;
use crate::sqlite::Sqlite;
use castellan_domain::{Error, Kind, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, Semaphore};

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    /// Parses `sqlite://PATH` or `postgres://...` / `postgresql://...`.
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(p) = url.strip_prefix("sqlite://") {
            Ok(Target::Sqlite(PathBuf::from(p)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Target::Postgres(url.to_string()))
        } else {
            Err(Error::invalid(
                "STORE-uRl01",
                "Errors.Invalid.Argument",
                "Database.URL must start with sqlite:// or postgres://",
            ))
        }
    }

    fn connect(&self, writer: bool) -> Result<Box<dyn Conn>, DbError> {
        match self {
            Target::Sqlite(p) => Ok(Box::new(Sqlite::open(p, writer)?)),
            Target::Postgres(u) => Ok(Box::new(Pg::connect(u)?)),
        }
    }
}

type Finish = Box<dyn FnOnce(Option<&DbError>) + Send>;
/// A queued command: runs in the open transaction, says whether it succeeded (a failed one is
/// rolled back to its savepoint) and hands back what to do once the commit is known.
type Job = Box<dyn FnOnce(&mut dyn Conn) -> (bool, Finish) + Send>;

/// Pool statistics for `/debug/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    pub commits: AtomicU64,
    pub commands: AtomicU64,
    pub reads: AtomicU64,
}

struct Inner {
    target: Target,
    dialect: Dialect,
    readers: Mutex<Vec<Box<dyn Conn>>>,
    permits: Semaphore,
    max_readers: usize,
    writer: std::sync::mpsc::Sender<Job>,
    stats: Arc<Stats>,
    auth_epoch: Arc<AtomicU64>,
    data_epoch: Arc<AtomicU64>,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

/// Largest number of commands batched into one commit.
const MAX_BATCH: usize = 256;

impl Db {
    /// Opens the database, runs migrations and starts the writer thread.
    pub fn open(target: Target, max_readers: usize) -> Result<Db> {
        if let Target::Sqlite(p) = &target {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::internal(
                        "STORE-d1rCr",
                        format!("cannot create {}: {e}", dir.display()),
                    )
                })?;
            }
        }
        let mut writer = target.connect(true)?;
        let dialect = writer.dialect();
        crate::migrate::run(writer.as_mut())?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let stats = Arc::new(Stats::default());
        let data_epoch = Arc::new(AtomicU64::new(0));
        std::thread::Builder::new()
            .name("castellan-writer".into())
            .spawn({
                let target = target.clone();
                let stats = stats.clone();
                let epoch = data_epoch.clone();
                move || writer_loop(writer, target, rx, stats, epoch)
            })
            .map_err(|e| Error::internal("STORE-thr3d", e.to_string()))?;
        Ok(Db {
            inner: Arc::new(Inner {
                target,
                dialect,
                readers: Mutex::new(Vec::new()),
                permits: Semaphore::new(max_readers.max(1)),
                max_readers: max_readers.max(1),
                writer: tx,
                stats,
                auth_epoch: Arc::new(AtomicU64::new(0)),
                data_epoch,
            }),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// A counter bumped whenever a committed command changed authentication-relevant state
    /// (users, tokens, members) on this node or, through LISTEN/NOTIFY, on another node.
    pub fn auth_epoch(&self) -> &Arc<AtomicU64> {
        &self.inner.auth_epoch
    }

    /// The node-local data epoch: bumped after every commit of this node's writer, before the
    /// committing callers are answered. Only meaningful as a cache key where this node is the
    /// only writer (`single_writer`).
    pub fn data_epoch(&self) -> u64 {
        self.inner.data_epoch.load(Ordering::SeqCst)
    }

    /// Whether this node is the only writer of the database (embedded SQLite), so that
    /// node-local caches of read models are exact.
    pub fn single_writer(&self) -> bool {
        self.inner.dialect == Dialect::Sqlite
    }

    pub fn max_readers(&self) -> usize {
        self.inner.max_readers
    }

    /// Runs `f` on a reader connection (on a blocking thread).
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| Error::new(Kind::Unavailable, "STORE-p00lC", "Errors.Unavailable"))?;
        let inner = self.inner.clone();
        self.inner.stats.reads.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let pooled = inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let mut conn = match pooled {
                Some(c) => c,
                None => inner.target.connect(false)?,
            };
            let out = f(conn.as_mut());
            let broken = matches!(&out, Err(e) if e.kind == Kind::Unavailable);
            if !broken {
                inner
                    .readers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(conn);
            }
            out
        })
        .await
        .map_err(|e| Error::internal("STORE-j01nR", e.to_string()))?
    }

    /// Runs a point read (a lookup by key: microseconds). On SQLite it runs on the calling
    /// thread, sparing the hand-off to a blocking thread that would cost more than the query;
    /// on PostgreSQL (a network round trip) it is `read`.
    pub async fn read_point<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        if self.inner.dialect != Dialect::Sqlite {
            return self.read(f).await;
        }
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|_| Error::new(Kind::Unavailable, "STORE-p00lC", "Errors.Unavailable"))?;
        self.inner.stats.reads.fetch_add(1, Ordering::Relaxed);
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.inner.target.connect(false)?,
        };
        let out = f(conn.as_mut());
        self.inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        out
    }

    /// Runs the command `f` inside the next group commit and returns its result once the
    /// commit is durable. A command failing with a concurrency conflict is retried.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let f = Arc::new(Mutex::new(f));
        for attempt in 0..5 {
            let (tx, rx) = oneshot::channel::<Result<T>>();
            let f2 = f.clone();
            let job: Job = Box::new(move |conn: &mut dyn Conn| {
                let res = (f2.lock().unwrap_or_else(|e| e.into_inner()))(conn);
                let ok = res.is_ok();
                let fin: Finish = Box::new(move |commit_err: Option<&DbError>| {
                    let out = match (res, commit_err) {
                        (Ok(_), Some(e)) => Err(Error::from(e.clone())),
                        (r, _) => r,
                    };
                    let _ = tx.send(out);
                });
                (ok, fin)
            });
            self.inner.stats.commands.fetch_add(1, Ordering::Relaxed);
            self.inner.writer.send(job).map_err(|_| {
                Error::new(Kind::Unavailable, "STORE-wr1tr", "Errors.Unavailable")
                    .with("the writer has stopped")
            })?;
            let out = rx.await.map_err(|_| {
                Error::new(Kind::Unavailable, "STORE-wr2tr", "Errors.Unavailable")
                    .with("the writer has stopped")
            })?;
            match out {
                Err(e) if e.id == "STORE-c0nfl" && attempt < 4 => continue,
                other => return other,
            }
        }
        Err(Error::new(
            Kind::Aborted,
            "STORE-c0nfl",
            "Errors.Concurrent.Modification",
        ))
    }
}

fn writer_loop(
    mut conn: Box<dyn Conn>,
    target: Target,
    rx: std::sync::mpsc::Receiver<Job>,
    stats: Arc<Stats>,
    data_epoch: Arc<AtomicU64>,
) {
    let begin = match conn.dialect() {
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    };
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.batch(begin) {
            tracing::error!(error = %e, "cannot begin a transaction; reconnecting");
            // Dropping the jobs drops their reply channels: the callers get UNAVAILABLE.
            drop(jobs);
            if let Ok(c) = target.connect(true) {
                conn = c;
            }
            continue;
        }
        let mut finishers: Vec<Finish> = Vec::with_capacity(jobs.len());
        for job in jobs {
            if let Err(e) = conn.batch("SAVEPOINT cmd") {
                tracing::error!(error = %e, "savepoint failed");
                continue;
            }
            let (ok, fin) = job(conn.as_mut());
            let end = if ok {
                "RELEASE SAVEPOINT cmd"
            } else {
                "ROLLBACK TO SAVEPOINT cmd; RELEASE SAVEPOINT cmd"
            };
            if let Err(e) = conn.batch(end) {
                tracing::error!(error = %e, "savepoint release failed");
            }
            finishers.push(fin);
        }
        let commit = conn.batch("COMMIT").err();
        stats.commits.fetch_add(1, Ordering::Relaxed);
        // Before anyone hears of the commit, so that caches never outlive what they cache.
        data_epoch.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = &commit {
            tracing::error!(error = %e, "commit failed");
            let _ = conn.batch("ROLLBACK");
        }
        for fin in finishers {
            fin(commit.as_ref());
        }
    }
}

impl Db {
    /// Runs a command: `f` gets the open transaction as `Tx` (read models plus `push`), and its
    /// result is returned once durable. Authentication caches are invalidated when needed.
    pub async fn command<T, F>(&self, author: crate::tx::Author, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut crate::tx::Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (out, touched) = self
            .write(move |conn| {
                let mut tx = crate::tx::Tx::new(conn, author.clone());
                let out = f(&mut tx)?;
                Ok((out, tx.touches_auth()))
            })
            .await?;
        if touched {
            self.inner.auth_epoch.fetch_add(1, Ordering::SeqCst);
        }
        Ok(out)
    }

    /// On PostgreSQL, listens for other nodes' auth-relevant commits and bumps the epoch.
    pub fn spawn_listener(&self) {
        let Target::Postgres(url) = self.inner.target.clone() else {
            return;
        };
        let epoch = self.inner.auth_epoch.clone();
        let _ = std::thread::Builder::new()
            .name("castellan-listen".into())
            .spawn(move || loop {
                match Pg::connect(&url) {
                    Ok(mut pg) => {
                        if pg.client().batch_execute("LISTEN castellan_auth").is_ok() {
                            let mut n = pg.client().notifications();
                            use postgres::fallible_iterator::FallibleIterator;
                            let mut it = n.blocking_iter();
                            while let Ok(Some(_)) = it.next() {
                                epoch.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for cache invalidations"),
                }
                epoch.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_secs(1));
            });
    }
}

impl Drop for Inner {
    /// PostgreSQL clients block on close; never drop them on an async worker thread.
    fn drop(&mut self) {
        let readers = std::mem::take(self.readers.get_mut().unwrap_or_else(|e| e.into_inner()));
        if !readers.is_empty() {
            let _ = std::thread::Builder::new()
                .name("castellan-close".into())
                .spawn(move || drop(readers));
        }
    }
}

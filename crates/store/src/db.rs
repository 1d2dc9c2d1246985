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
/// A command's work on the writer's connection.
type Run = Box<dyn FnOnce(&mut dyn Conn) -> Ran + Send>;

/// A queued command: runs in the open transaction, says whether it succeeded (a failed one is
/// rolled back to its savepoint) and whether it changed a read model, and hands back what to
/// do once the commit is known.
struct Job {
    run: Run,
    /// It writes with one statement at most ([`Db::write_single`]): alone in its batch, it
    /// runs without an explicit transaction.
    single: bool,
}

/// What a job did: succeeded, changed a read model, what to do once the commit is known.
struct Ran {
    ok: bool,
    changed: bool,
    finish: Finish,
}

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
    /// One queue per writer thread; a command goes to the writer its key hashes to, so that
    /// commands on one aggregate never race each other across writers.
    writers: Vec<std::sync::mpsc::Sender<Job>>,
    next_writer: AtomicU64,
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

/// Writer threads (connections) per node on PostgreSQL.
const PG_WRITERS: usize = 4;

/// Attempts of a command that keeps meeting concurrency conflicts.
const MAX_ATTEMPTS: u32 = 10;

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
        let mut first = target.connect(true)?;
        let dialect = first.dialect();
        crate::migrate::run(first.as_mut())?;
        let stats = Arc::new(Stats::default());
        let data_epoch = Arc::new(AtomicU64::new(0));
        // SQLite has one writer by nature. PostgreSQL gets several, each with its own group
        // commit, so that network round trips overlap; REPEATABLE READ plus the unique
        // per-aggregate sequence turn concurrent changes into retried conflicts.
        let writers = match dialect {
            Dialect::Sqlite => 1,
            Dialect::Postgres => PG_WRITERS,
        };
        let mut conn = Some(first);
        let mut queues = Vec::with_capacity(writers);
        for n in 0..writers {
            let (tx, rx) = std::sync::mpsc::channel::<Job>();
            queues.push(tx);
            let c = match conn.take() {
                Some(c) => c,
                None => target.connect(true)?,
            };
            let (target, stats, epoch) = (target.clone(), stats.clone(), data_epoch.clone());
            std::thread::Builder::new()
                .name(format!("castellan-writer-{n}"))
                .spawn(move || writer_loop(c, target, rx, stats, epoch))
                .map_err(|e| Error::internal("STORE-thr3d", e.to_string()))?;
        }
        Ok(Db {
            inner: Arc::new(Inner {
                target,
                dialect,
                readers: Mutex::new(Vec::new()),
                permits: Semaphore::new(max_readers.max(1)),
                max_readers: max_readers.max(1),
                writers: queues,
                next_writer: AtomicU64::new(0),
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

    /// The data epoch: bumped after every commit of this node's writers that changed a read
    /// model (before the committing callers are answered) and, on PostgreSQL, when another
    /// node commits such a change (any but a signing key's). Runtime writes (sessions,
    /// requests, codes) and successful password checks leave it alone.
    /// Caches of read models key their entries with it.
    pub fn data_epoch(&self) -> u64 {
        self.inner.data_epoch.load(Ordering::SeqCst)
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
        let _permit = self.reader_permit().await?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_reader(f))
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
        let _permit = self.reader_permit().await?;
        self.inner.with_reader(f)
    }

    async fn reader_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        self.inner.stats.reads.fetch_add(1, Ordering::Relaxed);
        self.inner
            .permits
            .acquire()
            .await
            .map_err(|_| Error::new(Kind::Unavailable, "STORE-p00lC", "Errors.Unavailable"))
    }

    /// Runs `f` on runtime state (sessions, authorization requests, refresh tokens: tables
    /// that are not read models) inside the next group commit and returns its result once the
    /// commit is durable; read-model caches keep their entries. A command failing with a
    /// concurrency conflict is retried.
    pub async fn write<T, F>(&self, key: &str, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        self.write_job(key, false, move |c| f(c).map(|t| (t, false)))
            .await
    }

    /// Like [`Db::write`] for `f` that changes the database with one statement at most (reads
    /// before or after it are allowed). When no other command waits with it, it runs without
    /// `BEGIN`/`COMMIT` (the statement commits by itself, durably): on PostgreSQL one round
    /// trip instead of three. Its statements then run at the database's default isolation
    /// (PostgreSQL: READ COMMITTED, where a conditional `UPDATE` that lost a race to a
    /// concurrent one re-checks its condition on the row as committed).
    pub async fn write_single<T, F>(&self, key: &str, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        self.write_job(key, true, move |c| f(c).map(|t| (t, false)))
            .await
    }

    /// Like [`Db::write`] for changes of the read models themselves (a rebuild): read-model
    /// caches drop once it commits.
    pub async fn write_read_models<T, F>(&self, key: &str, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        self.write_job(key, false, move |c| f(c).map(|t| (t, true)))
            .await
    }

    /// Runs `f` inside the next group commit; `f` also says whether it changed a read model.
    async fn write_job<T, F>(&self, key: &str, single: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<(T, bool)> + Send + 'static,
    {
        let f = Arc::new(Mutex::new(f));
        let queue = self.queue_for(key);
        for attempt in 0..MAX_ATTEMPTS {
            let (tx, rx) = oneshot::channel::<Result<T>>();
            let f2 = f.clone();
            let run: Run = Box::new(move |conn: &mut dyn Conn| {
                let res = (f2.lock().unwrap_or_else(|e| e.into_inner()))(conn);
                let ok = res.is_ok();
                let changed = matches!(res, Ok((_, true)));
                let finish: Finish = Box::new(move |commit_err: Option<&DbError>| {
                    let out = match (res, commit_err) {
                        (Ok(_), Some(e)) => Err(Error::from(e.clone())),
                        (r, _) => r.map(|(t, _)| t),
                    };
                    let _ = tx.send(out);
                });
                Ran {
                    ok,
                    changed,
                    finish,
                }
            });
            let job = Job { run, single };
            self.inner.stats.commands.fetch_add(1, Ordering::Relaxed);
            self.inner.writers[queue].send(job).map_err(|_| {
                Error::new(Kind::Unavailable, "STORE-wr1tr", "Errors.Unavailable")
                    .with("the writer has stopped")
            })?;
            let out = rx.await.map_err(|_| {
                Error::new(Kind::Unavailable, "STORE-wr2tr", "Errors.Unavailable")
                    .with("the writer has stopped")
            })?;
            match out {
                Err(e) if e.id == "STORE-c0nfl" && attempt + 1 < MAX_ATTEMPTS => {
                    // Back off a little (with jitter) so that the competing command can finish.
                    let jitter = u64::from(castellan_domain::id::random_bytes::<1>()[0]) * 8;
                    tokio::time::sleep(std::time::Duration::from_micros(
                        (200 << attempt.min(5)) + jitter,
                    ))
                    .await;
                    continue;
                }
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
        Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
    };
    // A batch of several commands opens the first savepoint with the transaction.
    let begin_savepoint = format!("{begin}; SAVEPOINT cmd");
    loop {
        // Wait for the next command, then take everything queued behind it into the same
        // transaction.
        let mut jobs = {
            let Ok(first) = rx.recv() else { return };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            jobs
        };
        let n = jobs.len();
        if n == 1 && jobs[0].single {
            // One statement that commits by itself: no transaction around it.
            let Some(job) = jobs.pop() else { continue };
            let ran = (job.run)(conn.as_mut());
            stats.commits.fetch_add(1, Ordering::Relaxed);
            if ran.ok && ran.changed {
                data_epoch.fetch_add(1, Ordering::SeqCst);
            }
            (ran.finish)(None);
            // A failed statement may mean a lost connection, which only a `BEGIN` would
            // otherwise notice: a stream of lone single writes would keep failing on it.
            if !ran.ok && conn.batch("SELECT 1").is_err() {
                tracing::error!("the write connection is lost; reconnecting");
                if let Ok(c) = target.connect(true) {
                    conn = c;
                }
            }
            continue;
        }
        let open = if n == 1 { begin } else { &begin_savepoint };
        if let Err(e) = conn.batch(open) {
            tracing::error!(error = %e, "cannot begin a transaction; reconnecting");
            // Dropping the jobs drops their reply channels: the callers get UNAVAILABLE.
            drop(jobs);
            if let Ok(c) = target.connect(true) {
                conn = c;
            }
            continue;
        }
        let mut finishers: Vec<Finish> = Vec::with_capacity(jobs.len());
        let mut end = "COMMIT";
        // The commit's outcome when it travelled with the last savepoint's release.
        let mut committed: Option<Result<(), DbError>> = None;
        let mut changed = false;
        if n == 1 {
            // A lone command needs no savepoint: if it fails, the transaction is rolled back.
            for job in jobs {
                let ran = (job.run)(conn.as_mut());
                if !ran.ok {
                    end = "ROLLBACK";
                }
                changed |= ran.changed;
                finishers.push(ran.finish);
            }
        } else {
            // Each command in its own savepoint; the statements that close one savepoint and
            // open the next travel together, and so do the last release and the commit.
            for (i, job) in jobs.into_iter().enumerate() {
                let ran = (job.run)(conn.as_mut());
                changed |= ran.ok && ran.changed;
                let last = i + 1 == n;
                let sql = match (ran.ok, last) {
                    (true, false) => "RELEASE SAVEPOINT cmd; SAVEPOINT cmd",
                    (false, false) => {
                        "ROLLBACK TO SAVEPOINT cmd; RELEASE SAVEPOINT cmd; SAVEPOINT cmd"
                    }
                    (true, true) if end == "COMMIT" => "RELEASE SAVEPOINT cmd; COMMIT",
                    (true, true) => "RELEASE SAVEPOINT cmd",
                    (false, true) if end == "COMMIT" => {
                        "ROLLBACK TO SAVEPOINT cmd; RELEASE SAVEPOINT cmd; COMMIT"
                    }
                    (false, true) => "ROLLBACK TO SAVEPOINT cmd; RELEASE SAVEPOINT cmd",
                };
                let res = conn.batch(sql);
                if sql.ends_with("COMMIT") {
                    committed = Some(res);
                } else if let Err(e) = res {
                    tracing::error!(error = %e, "savepoint release failed");
                    end = "ROLLBACK";
                }
                finishers.push(ran.finish);
            }
        }
        let commit = match committed.unwrap_or_else(|| conn.batch(end)) {
            Err(e) => Some(e),
            Ok(()) if end == "ROLLBACK" && finishers.len() > 1 => {
                Some(DbError::Other("the transaction was rolled back".into()))
            }
            Ok(()) => None,
        };
        stats.commits.fetch_add(1, Ordering::Relaxed);
        // Before anyone hears of the commit, so that caches never outlive what they cache.
        if changed {
            data_epoch.fetch_add(1, Ordering::SeqCst);
        }
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
    /// The writer queue of a key (an aggregate id); keyless commands are spread round-robin.
    fn queue_for(&self, key: &str) -> usize {
        let n = self.inner.writers.len();
        if n == 1 {
            return 0;
        }
        if key.is_empty() {
            return (self.inner.next_writer.fetch_add(1, Ordering::Relaxed) as usize) % n;
        }
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        (h.finish() as usize) % n
    }

    /// Runs a command: `f` gets the open transaction as `Tx` (read models plus `push`), and its
    /// result is returned once durable. Authentication caches are invalidated when needed.
    pub async fn command<T, F>(&self, key: &str, author: crate::tx::Author, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut crate::tx::Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (out, touched) = self
            .write_job(key, false, move |conn| {
                let mut tx = crate::tx::Tx::new(conn, author.clone());
                let out = f(&mut tx)?;
                let changed = tx.changes_data();
                Ok(((out, tx.touches_auth()), changed))
            })
            .await?;
        if touched {
            self.inner.auth_epoch.fetch_add(1, Ordering::SeqCst);
        }
        Ok(out)
    }

    /// Runs `f` like [`Db::write`] for state outside the events that authentication depends on
    /// (token revocations): once committed, authentication caches are dropped here and, through
    /// `castellan_auth`, on the other PostgreSQL nodes.
    pub async fn write_auth<T, F>(&self, key: &str, instance: &str, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Conn) -> Result<T> + Send + 'static,
    {
        let inst = instance.to_string();
        let out = self
            .write(key, move |conn| {
                let out = f(conn)?;
                if conn.dialect() == Dialect::Postgres {
                    conn.exec(
                        "SELECT pg_notify('castellan_auth', ?)",
                        &crate::params![&inst],
                    )
                    .map_err(|e: DbError| Error::from(e))?;
                }
                Ok(out)
            })
            .await?;
        self.inner.auth_epoch.fetch_add(1, Ordering::SeqCst);
        Ok(out)
    }

    /// On PostgreSQL, listens for other nodes' commits: `castellan_auth` moves the auth
    /// epoch, `castellan_data` the data epoch (user caches). After a lost connection every
    /// cache is dropped, since notifications may have been missed.
    pub fn spawn_listener(&self) {
        let Target::Postgres(url) = self.inner.target.clone() else {
            return;
        };
        let (auth, data) = (self.inner.auth_epoch.clone(), self.inner.data_epoch.clone());
        // The thread ends (and closes its connection) within a second of the last handle
        // of this database being dropped.
        let alive = Arc::downgrade(&self.inner);
        let open = move || alive.strong_count() > 0;
        let _ = std::thread::Builder::new()
            .name("castellan-listen".into())
            .spawn(move || {
                while open() {
                    match Pg::connect(&url) {
                        Ok(mut pg) => {
                            if pg
                                .client()
                                .batch_execute("LISTEN castellan_auth; LISTEN castellan_data")
                                .is_ok()
                            {
                                use postgres::fallible_iterator::FallibleIterator;
                                let mut n = pg.client().notifications();
                                'listen: while open() {
                                    let mut it = n.timeout_iter(std::time::Duration::from_secs(1));
                                    loop {
                                        match it.next() {
                                            Ok(Some(note)) => {
                                                let epoch = if note.channel() == "castellan_auth" {
                                                    &auth
                                                } else {
                                                    &data
                                                };
                                                epoch.fetch_add(1, Ordering::SeqCst);
                                            }
                                            Ok(None) => break,
                                            Err(_) => break 'listen,
                                        }
                                    }
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot listen for cache invalidations")
                        }
                    }
                    auth.fetch_add(1, Ordering::SeqCst);
                    data.fetch_add(1, Ordering::SeqCst);
                    if open() {
                        std::thread::sleep(std::time::Duration::from_secs(1));
                    }
                }
            });
    }
}

impl Inner {
    /// Runs `f` on a pooled reader connection (opening one if the pool is empty); a connection
    /// that failed is not returned to the pool.
    fn with_reader<T>(&self, f: impl FnOnce(&mut dyn Conn) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => self.target.connect(false)?,
        };
        let out = f(conn.as_mut());
        if !matches!(&out, Err(e) if e.kind == Kind::Unavailable) {
            self.readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
        out
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

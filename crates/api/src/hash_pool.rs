//! The password hashing threads: one per core, named `castellan-hash`, taking hashes and
//! checks in arrival order, so that a login never waits for another request's hash longer
//! than the pool needs and the runtime's threads never run one. A thread that finishes a job
//! takes the next one at once (no round trip through the runtime), and when none is left
//! argon2's kept working memory goes back to the system.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of hashing threads; dropping it lets them end once their queue is empty.
pub struct HashPool {
    jobs: Sender<Job>,
    /// Jobs queued or running.
    pending: Arc<AtomicUsize>,
    /// Jobs finished.
    done: Arc<AtomicU64>,
}

impl HashPool {
    /// Starts `threads` hashing threads.
    pub fn new(threads: usize) -> HashPool {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let pending = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicU64::new(0));
        for _ in 0..threads.max(1) {
            let (rx, pending, done) = (rx.clone(), pending.clone(), done.clone());
            // Without a thread the pool still answers: `run` reports the closed queue.
            let _ = std::thread::Builder::new()
                .name("castellan-hash".into())
                .spawn(move || work(&rx, &pending, &done));
        }
        HashPool {
            jobs: tx,
            pending,
            done,
        }
    }

    /// Hashes queued or running now.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed) as u64
    }

    /// Hashes finished since start.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Runs `f` on a hashing thread and returns its result; `None` when `f` panicked or no
    /// hashing thread could be started.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.jobs.send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        rx.await.ok()
    }
}

fn work(rx: &Mutex<Receiver<Job>>, pending: &AtomicUsize, done: &AtomicU64) {
    loop {
        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        // A panicking job drops its answer's sender (its caller gets an error); the thread
        // goes on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        done.fetch_add(1, Ordering::Relaxed);
        if pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            castellan_domain::password::release_memory();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_at_most_its_threads_at_once_and_survives_a_panic() {
        let pool = Arc::new(HashPool::new(2));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..8)
            .map(|i| {
                let (pool, running, most) = (pool.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    pool.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        assert_eq!(
                            std::thread::current().name(),
                            Some("castellan-hash"),
                            "on a hashing thread"
                        );
                        std::thread::sleep(Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i * 10
                    })
                    .await
                })
            })
            .collect();
        for (i, j) in jobs.into_iter().enumerate() {
            assert_eq!(j.await.expect("join"), Some(i * 10));
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "both threads ran, never more"
        );
        // A panicking job answers None; the threads go on.
        assert_eq!(pool.run(|| -> u8 { panic!("boom") }).await, None);
        for _ in 0..3 {
            assert_eq!(pool.run(|| 7).await, Some(7));
        }
        // Counted down just after each answer went out.
        for _ in 0..100 {
            if pool.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "jobs still pending: {}",
            pool.pending.load(Ordering::SeqCst)
        );
    }
}

//! The writer's batches: commands queued behind one another share a transaction, each in its
//! own savepoint (the first opened with the transaction, the last closed with the commit). A
//! command that fails leaves no trace and takes none of its neighbours with it.

use super::*;
use castellan_store::{params, Db, Target};
use std::sync::atomic::Ordering;

both!(
    a_failing_command_in_a_batch_fails_alone,
    |s: TestServer| async move {
        let target = Target::parse(&s.db_url).expect("url");
        let db = tokio::task::spawn_blocking(move || Db::open(target, 2))
            .await
            .expect("join")
            .expect("open db");
        let before = db.stats().commits.load(Ordering::Relaxed);
        const N: usize = 90;
        let fails = |i: usize| i % 3 == 1;
        let calls: Vec<_> = (0..N)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    // One key: one writer queue, so the commands batch up behind each other.
                    db.write("batch-test", move |c| {
                        c.exec(
                            "INSERT INTO system_settings (key, value) VALUES (?, ?)",
                            &params![format!("batch-{i:03}"), "v"],
                        )?;
                        if fails(i) {
                            return Err(castellan_domain::Error::invalid(
                                "TEST-f41l",
                                "Errors.Invalid.Argument",
                                "fails on purpose",
                            ));
                        }
                        Ok(i)
                    })
                    .await
                })
            })
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            let r = call.await.expect("join");
            match fails(i) {
                true => assert_eq!(r.expect_err("fails").id, "TEST-f41l"),
                false => assert_eq!(r.expect("commits"), i),
            }
        }
        let commits = db.stats().commits.load(Ordering::Relaxed) - before;
        assert!(
            commits < N as u64,
            "{commits} commits for {N} commands: no batch formed"
        );
        let keys = db
            .read(|c| {
                let rows = c.query(
                    "SELECT key FROM system_settings WHERE key LIKE 'batch-%' ORDER BY key",
                    &[],
                )?;
                rows.iter()
                    .map(|r| r.text(0))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .expect("read");
        let want: Vec<String> = (0..N)
            .filter(|i| !fails(*i))
            .map(|i| format!("batch-{i:03}"))
            .collect();
        assert_eq!(keys, want);
        s.stop().await;
    }
);

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

both!(
    single_statement_writes_win_once_alone_or_batched,
    |s: TestServer| async move {
        // `write_single` runs without a transaction when it is alone in its writer's queue, and
        // inside the batch's transaction otherwise: a conditional update of one row wins once
        // either way, and what it wrote is there for a reader and after reopening.
        let target = Target::parse(&s.db_url).expect("url");
        let open = |t: Target| async move {
            tokio::task::spawn_blocking(move || Db::open(t, 2))
                .await
                .expect("join")
                .expect("open db")
        };
        let db = open(target.clone()).await;
        db.write("single-test", |c| {
            c.exec(
                "INSERT INTO system_settings (key, value) VALUES ('single-row', '0')",
                &[],
            )?;
            Ok(())
        })
        .await
        .expect("row");
        // Alone: one update, then a reader sees it.
        let n = db
            .write_single("single-test", |c| {
                Ok(c.exec(
                    "UPDATE system_settings SET value = '1' WHERE key = 'single-row' AND value = '0'",
                    &[],
                )?)
            })
            .await
            .expect("alone");
        assert_eq!(n, 1);
        // Concurrent: 30 conditional updates from '1', mixed with 30 batched inserts.
        let calls: Vec<_> = (0..60)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        db.write_single("single-test", move |c| {
                            Ok(c.exec(
                                "UPDATE system_settings SET value = ? WHERE key = 'single-row' AND value = '1'",
                                &params![format!("won-{i}")],
                            )?)
                        })
                        .await
                    } else {
                        db.write("single-test", move |c| {
                            Ok(c.exec(
                                "INSERT INTO system_settings (key, value) VALUES (?, 'x')",
                                &params![format!("single-{i:02}")],
                            )?)
                        })
                        .await
                    }
                })
            })
            .collect();
        let mut winners = Vec::new();
        for (i, call) in calls.into_iter().enumerate() {
            let n = call.await.expect("join").expect("write");
            if i % 2 == 0 && n == 1 {
                winners.push(format!("won-{i}"));
            }
        }
        assert_eq!(winners.len(), 1, "exactly one update wins: {winners:?}");
        drop(db);
        let again = open(target).await;
        let (value, inserted) = again
            .read(|c| {
                let v = c
                    .one(
                        "SELECT value FROM system_settings WHERE key = 'single-row'",
                        &[],
                    )?
                    .expect("row")
                    .text(0)?;
                let n = c
                    .one(
                        "SELECT COUNT(*) FROM system_settings WHERE key LIKE 'single-%' AND key <> 'single-row'",
                        &[],
                    )?
                    .expect("count")
                    .int(0)?;
                Ok((v, n))
            })
            .await
            .expect("read");
        assert_eq!(value, winners[0]);
        assert_eq!(inserted, 30);
        s.stop().await;
    }
);

both!(
    a_lone_single_write_reconnects_after_a_lost_connection,
    |s: TestServer| async move {
        // PostgreSQL only: its server can drop the writer's connection.
        if !s.db_url.starts_with("postgres") {
            return s.stop().await;
        }
        let target = Target::parse(&s.db_url).expect("url");
        let db = tokio::task::spawn_blocking(move || Db::open(target, 2))
            .await
            .expect("join")
            .expect("open db");
        let single = |v: &'static str| {
            let db = db.clone();
            async move {
                db.write_single("reconnect-test", move |c| {
                    Ok(c.exec(
                        "INSERT INTO system_settings (key, value) VALUES (?, 'x')",
                        &params![v],
                    )?)
                })
                .await
            }
        };
        assert_eq!(single("reconnect-1").await.expect("before"), 1);
        // Every other connection to the database is ended, the writers' among them.
        let url = s.db_url.clone();
        tokio::task::spawn_blocking(move || {
            let mut pg = castellan_store::pg::Pg::connect(&url).expect("connect");
            castellan_store::conn::Conn::batch(
                &mut pg,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .expect("terminate");
        })
        .await
        .expect("join");
        // The next lone single write meets the lost connection; the one after it works.
        single("reconnect-2")
            .await
            .expect_err("on the lost connection");
        assert_eq!(single("reconnect-3").await.expect("reconnected"), 1);
        s.stop().await;
    }
);

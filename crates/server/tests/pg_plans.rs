//! Query plans of the PostgreSQL driver (`castellan_store::pg`): ordinary statements move to
//! generic plans (no planning per execution); a lookup by key first run on a nearly empty
//! table uses its index again once the table has grown (its statement is prepared afresh after
//! `FIRST_PLAN_RUNS` executions, then after twice as many each time up to `RUNS_PER_PLAN`); prefix searches (`LIKE 'prefix%'`) keep using their
//! `text_pattern_ops` index however often their statement ran, also after contains searches
//! on the same statement (which would make PostgreSQL's plan cache settle on a generic
//! sequential scan).

use castellan_store::conn::Conn;
use castellan_store::pg::{Pg, FIRST_PLAN_RUNS};
use castellan_store::value::Value;
use castellan_testkit::postgres;

/// Sequential and index scans of `table` so far in the current transaction.
fn scans(c: &mut dyn Conn, table: &str) -> (i64, i64) {
    let r = c
        .query(
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = ?",
            &[Value::from(table)],
        )
        .expect("stats");
    (r[0].int(0).expect("seq"), r[0].int(1).expect("idx"))
}

#[test]
fn plans_follow_the_values_and_the_table_size() {
    let Some(server) = postgres::shared() else {
        return;
    };
    let url = server.create_database().expect("database");
    let mut pg = Pg::connect(&url).expect("connect");
    let c: &mut dyn Conn = &mut pg;
    c.batch(
        "CREATE TABLE names (id BIGINT PRIMARY KEY, name TEXT NOT NULL);
         CREATE INDEX names_name ON names (name text_pattern_ops);
         INSERT INTO names SELECT i, 'name-' || lpad(i::text, 6, '0') FROM generate_series(1, 50000) i;
         ANALYZE names;",
    )
    .expect("schema");

    let like = "SELECT id FROM names WHERE name LIKE ?";
    c.batch("BEGIN").expect("begin");
    // Contains searches: sequential scans, more than the five custom plans PostgreSQL makes
    // before it considers a generic one.
    for i in 0..6 {
        let rows = c
            .query(like, &[Value::from(format!("%0012{i}%").as_str())])
            .expect("contains");
        assert!(!rows.is_empty());
    }
    let (seq, idx) = scans(c, "names");
    assert!(seq >= 6, "contains searches scan the table ({seq})");
    // Prefix searches on the same statement: each one an index scan.
    for i in 0..6 {
        let rows = c
            .query(like, &[Value::from(format!("name-0001{i}%").as_str())])
            .expect("prefix");
        assert_eq!(rows.len(), 10);
    }
    assert_eq!(
        scans(c, "names"),
        (seq, idx + 6),
        "prefix searches must use names_name (sequential, index scans)"
    );
    c.batch("COMMIT").expect("commit");

    // A lookup by key, run often while its table holds one row, then after the table grew.
    c.batch("CREATE TABLE grows (id BIGINT PRIMARY KEY, v TEXT NOT NULL); INSERT INTO grows VALUES (1, 'a'); ANALYZE grows;")
        .expect("small table");
    let by_id = "SELECT v FROM grows WHERE id = ?";
    for _ in 0..10 {
        assert_eq!(c.query(by_id, &[Value::Int(1)]).expect("small").len(), 1);
    }
    let plans = c
        .query(
            "SELECT generic_plans FROM pg_prepared_statements WHERE statement = 'SELECT v FROM grows WHERE id = $1'",
            &[],
        )
        .expect("prepared statements");
    assert!(
        plans[0].int(0).expect("generic") > 0,
        "a lookup by key gets a generic plan"
    );
    c.batch("INSERT INTO grows SELECT i, 'v' FROM generate_series(2, 50000) i")
        .expect("grow");
    // Its first plan is made again after FIRST_PLAN_RUNS executions (10 of them ran above).
    for i in 0..FIRST_PLAN_RUNS {
        let id = i64::from(i % 50_000) + 1;
        assert_eq!(c.query(by_id, &[Value::Int(id)]).expect("grown").len(), 1);
    }
    c.batch("BEGIN").expect("begin");
    let (seq, idx) = scans(c, "grows");
    for id in [7, 70, 700, 7000] {
        assert_eq!(c.query(by_id, &[Value::Int(id)]).expect("grown").len(), 1);
    }
    assert_eq!(
        scans(c, "grows"),
        (seq, idx + 4),
        "lookups on the grown table must use its primary key (sequential, index scans)"
    );
    c.batch("COMMIT").expect("commit");
}

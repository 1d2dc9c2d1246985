//! Query plans of the PostgreSQL driver (`castellan_store::pg`): ordinary statements may move
//! to generic plans (no planning per execution), while prefix searches (`LIKE 'prefix%'`)
//! keep using their `text_pattern_ops` index however often their statement ran, also after
//! contains searches on the same statement, which make PostgreSQL's plan cache settle on a
//! generic sequential scan for a named prepared statement.

use castellan_store::conn::Conn;
use castellan_store::pg::Pg;
use castellan_store::value::Value;
use castellan_testkit::postgres;

/// Sequential and index scans of `names` so far in the current transaction.
fn scans(c: &mut dyn Conn) -> (i64, i64) {
    let r = c
        .query(
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'names'",
            &[],
        )
        .expect("stats");
    (r[0].int(0).expect("seq"), r[0].int(1).expect("idx"))
}

#[test]
fn prefix_searches_keep_their_index_and_other_statements_get_generic_plans() {
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
    let (seq, idx) = scans(c);
    assert!(seq >= 6, "contains searches scan the table ({seq})");
    // Prefix searches on the same statement: each one an index scan.
    for i in 0..6 {
        let rows = c
            .query(like, &[Value::from(format!("name-0001{i}%").as_str())])
            .expect("prefix");
        assert_eq!(rows.len(), 10);
    }
    assert_eq!(
        scans(c),
        (seq, idx + 6),
        "prefix searches must use names_name (sequential, index scans)"
    );
    c.batch("COMMIT").expect("commit");

    // An ordinary statement is no longer planned on every execution.
    for id in 1..=8 {
        let rows = c
            .query("SELECT name FROM names WHERE id = ?", &[Value::Int(id)])
            .expect("by id");
        assert_eq!(rows.len(), 1);
    }
    let plans = c
        .query(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
            &[],
        )
        .expect("prepared statements");
    let plans_of = |sql: &str| {
        plans
            .iter()
            .find(|r| r.text(0).expect("statement") == sql)
            .map(|r| (r.int(1).expect("generic"), r.int(2).expect("custom")))
            .unwrap_or_else(|| panic!("{sql} is not prepared"))
    };
    let (generic, _) = plans_of("SELECT name FROM names WHERE id = $1");
    assert!(generic > 0, "a lookup by key gets a generic plan");
    // The named statement of the LIKE search only told its parameter types: never executed.
    assert_eq!(plans_of("SELECT id FROM names WHERE name LIKE $1"), (0, 0));
}

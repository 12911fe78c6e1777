#![allow(clippy::unwrap_used)]
//! The PostgreSQL test harness itself (`tabella_tests::postgres`): fresh databases on a real
//! server, distinct and reachable, gone once dropped.

use std::thread;

use tabella_tests::postgres::{self, database_or_skip};

#[test]
fn databases_are_distinct_reachable_and_dropped() {
    let Some(first) = database_or_skip("databases_are_distinct_reachable_and_dropped") else {
        return;
    };
    let Some(second) = database_or_skip("databases_are_distinct_reachable_and_dropped") else {
        return;
    };

    assert_ne!(first.name(), second.name());
    assert_ne!(first.url(), second.url());
    for database in [&first, &second] {
        assert!(
            database.url().starts_with("postgres://"),
            "{}",
            database.url()
        );
        assert!(database.url().ends_with(&format!("/{}", database.name())));
        // Reachable through its URL, by a client outside the harness.
        assert_eq!(postgres::psql(database.url(), "select 1").unwrap(), "1");
        assert_eq!(
            database.psql("select current_database()").unwrap(),
            database.name()
        );
        // Fresh and empty: no tables outside the system schemas.
        assert_eq!(
            database
                .psql(
                    "select count(*) from information_schema.tables \
                     where table_schema not in ('pg_catalog', 'information_schema')"
                )
                .unwrap(),
            "0"
        );
    }

    // Writable, and separate: a table in one is not in the other.
    first
        .psql("create table ballots (id bigint primary key); insert into ballots values (7)")
        .unwrap();
    assert_eq!(first.psql("select id from ballots").unwrap(), "7");
    assert!(second.psql("select id from ballots").is_err());

    // Dropping a database removes it from the server.
    let exists = |name: &str| {
        first
            .psql(&format!(
                "select count(*) from pg_database where datname = '{name}'"
            ))
            .unwrap()
    };
    let (second_name, second_url) = (second.name().to_owned(), second.url().to_owned());
    assert_eq!(exists(&second_name), "1");
    drop(second);
    assert_eq!(exists(&second_name), "0");
    let err = postgres::psql(&second_url, "select 1").unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn parallel_tests_share_one_server() {
    let handles: Vec<_> = (0..6)
        .map(|_| thread::spawn(|| database_or_skip("parallel_tests_share_one_server")))
        .collect();
    let databases: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let Some(databases) = databases.into_iter().collect::<Option<Vec<_>>>() else {
        return;
    };
    let servers: std::collections::BTreeSet<_> = databases
        .iter()
        .map(|db| db.psql("select inet_server_port()").unwrap())
        .collect();
    assert_eq!(servers.len(), 1, "one server per test process: {servers:?}");
    let names: std::collections::BTreeSet<_> = databases.iter().map(|db| db.name()).collect();
    assert_eq!(names.len(), databases.len());
}

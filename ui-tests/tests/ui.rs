//! Compile-fail tests: the messages users see for common mistakes.
//!
//! Snapshots (`cases/*/*.stderr`) depend on the rustc version; regenerate
//! with `TRYBUILD=overwrite cargo test -p covreml-ui-tests` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // Compile-fail cases only: trybuild then runs `cargo check`, not a full
    // build of the dependencies. What must compile is tested as ordinary
    // integration tests (`tests/structures/user_structure.rs` in covreml).
    t.compile_fail("cases/*/*.rs");
}

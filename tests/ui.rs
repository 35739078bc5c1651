//! Compile-fail tests: the messages users see for common mistakes.
//!
//! Snapshots (`ui-tests/*/*.stderr`) depend on the rustc version; regenerate
//! with `TRYBUILD=overwrite cargo test --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    // Compile-fail cases only: trybuild then runs `cargo check`, not a full
    // build of the dependencies. What must compile is tested as ordinary
    // integration tests (`tests/structures/user_structure.rs`).
    t.compile_fail("ui-tests/*/*.rs");
}

//! Compile-fail tests: the messages users see for common mistakes.
//!
//! Snapshots (`ui-tests/*/*.stderr`) depend on the rustc version; regenerate
//! with `TRYBUILD=overwrite cargo test --test ui` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui-tests/*/*.rs");
    t.pass("ui-tests/pass/*.rs");
}

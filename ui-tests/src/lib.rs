//! Compile-fail tests for covreml. The cases are in `cases/`, the harness in
//! `tests/ui.rs`; this library is empty.

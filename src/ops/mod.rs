//! Operators: compositions of structures resolved at compile time.

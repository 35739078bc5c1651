//! Operand names as types.
//!
//! An operand inside an operator is named `op_0`, `op_1`, … by position
//! unless it carries a label type: a zero-sized type implementing [`Label`],
//! usually derived.
//!
//! ```
//! use covreml::Label;
//! #[derive(Label)]
//! #[label("time")]
//! struct Time;
//! #[derive(Label)] // no attribute: the type name in lower case
//! struct Subject;
//! assert_eq!(Time::NAME, "time");
//! assert_eq!(Subject::NAME, "subject");
//! ```

/// A name for an operand, carried by a type.
///
/// Derive it with `#[derive(covreml::Label)]`, optionally with
/// `#[label("name")]`; the default is the type name in lower case. Labels are
/// non-empty and contain neither whitespace nor `/`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an operand label",
    label = "expected a label type here",
    note = "declare one with `#[derive(covreml::Label)] #[label(\"time\")] struct Time;`"
)]
pub trait Label: 'static {
    /// The operand name, such as `"time"`.
    const NAME: &'static str;
}

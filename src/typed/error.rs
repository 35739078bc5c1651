//! Errors of the structure layer.

use thiserror::Error;

/// What can go wrong when building or evaluating a covariance structure.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CovError {
    /// A free-parameter vector of the wrong length.
    #[error("expected {expected} free parameters ({names}), got {got}")]
    WrongParamCount {
        /// How many were expected.
        expected: usize,
        /// How many were given.
        got: usize,
        /// The expected names, comma separated.
        names: String,
    },
    /// A name given in a map or to `fix` that the structure does not have.
    #[error("unknown parameter `{name}`; the parameters are: {known}")]
    UnknownParam {
        /// The name given.
        name: String,
        /// The structure's parameter names, comma separated.
        known: String,
    },
    /// A fixed parameter named where only free parameters are expected (a
    /// name → value map of the free parameters).
    #[error("parameter `{name}` is fixed, not free; the free parameters are: {free}")]
    FixedParam {
        /// The name given.
        name: String,
        /// The free parameter names, comma separated.
        free: String,
    },
    /// Two parameters with the same (namespaced) name, for example two
    /// operands with the same label; names must identify parameters.
    #[error("two parameters are named `{name}`; give the operands distinct names")]
    DuplicateParam {
        /// The repeated name.
        name: String,
    },
    /// An operand name that cannot be used (empty, or with `/` or whitespace).
    #[error("`{name}` cannot name an operand: use a non-empty name without `/` or whitespace")]
    InvalidOperandName {
        /// The name given.
        name: String,
    },
    /// A natural value that the parameter's transform cannot reach (for
    /// example a variance ≤ 0, a correlation ≥ 1, or any value but 1 for
    /// `Pow(0)`).
    #[error(
        "parameter `{name}` = {} is out of range: its transform {transform} reaches {range}",
        crate::typed::display::num(.value)
    )]
    NotInRange {
        /// The parameter.
        name: String,
        /// The natural value asked for.
        value: f64,
        /// The transform, as text.
        transform: String,
        /// The values it reaches, as text (`(0, inf)`).
        range: String,
    },
    /// A free parameter missing from a name → value map.
    #[error("missing free parameter(s): {names}")]
    MissingParams {
        /// The missing names, comma separated.
        names: String,
    },
    /// An operand name given to `rename_operand` that is not an operand.
    #[error("no operand named `{name}`")]
    UnknownOperand {
        /// The name given.
        name: String,
    },
    /// A shape that the structure cannot take (for example `Equicorrelation(1)`).
    #[error("invalid shape for {structure}: {reason}")]
    InvalidShape {
        /// The structure type.
        structure: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Operands whose sizes do not fit together.
    #[error("{operator}: operand sizes do not match: {details}")]
    SizeMismatch {
        /// The operator.
        operator: &'static str,
        /// The operands and their sizes.
        details: String,
    },
    /// A structure without a closed-form Jacobian asked for one.
    #[error("{structure} has no closed-form Jacobian; use the dual-number Jacobian")]
    NoClosedForm {
        /// The structure type.
        structure: &'static str,
    },
    /// The matrix came out with NaN or infinite entries at finite
    /// parameters (a singular operand of `Inverse`, a transform that
    /// overflowed, a data operand holding NaN, or a user structure that
    /// produced them). A NaN or infinite parameter is [`CovError::NotFinite`].
    #[error(
        "{structure}: the matrix or its Jacobian has non-finite entries at these parameters ({params}): \
         a singular Inverse operand, a transform that overflowed (natural values are shown), \
         a data operand with NaN or infinite entries, or a user structure that returned them \
         or whose value does not have its declared size"
    )]
    NonFiniteMatrix {
        /// The structure type.
        structure: &'static str,
        /// The free parameters, formatted.
        params: String,
    },
    /// A structure's value, Jacobian or diagonal does not have the size it
    /// declares (a user structure whose `value` disagrees with its `dims`).
    #[error("{structure} returned {details}")]
    WrongOutput {
        /// The structure type or model.
        structure: String,
        /// What was returned and what was declared.
        details: String,
    },
    /// A parameter of an [`Adapter`](crate::ops::Adapter)'s adaptee that the
    /// map feeds from no new parameter and no constant.
    #[error(
        "adaptee parameter `{name}` is not mapped: map it to a new parameter or to a constant, or fix it in the adaptee"
    )]
    UnmappedParam {
        /// The adaptee parameter.
        name: String,
    },
    /// A new parameter of an [`Adapter`](crate::ops::Adapter) that feeds no
    /// adaptee parameter (it could not be estimated).
    #[error("new parameter `{name}` feeds no adaptee parameter; the map uses: {used}")]
    UnusedParam {
        /// The new parameter.
        name: String,
        /// The new parameters the map does use, comma separated.
        used: String,
    },
    /// A parameter map of an [`Adapter`](crate::ops::Adapter) whose sizes or
    /// entries do not fit the adaptee.
    #[error("invalid parameter map for {adaptee}: {details}")]
    InvalidMap {
        /// The adaptee structure.
        adaptee: &'static str,
        /// What does not fit, with the sizes or the parameter named.
        details: String,
    },
    /// A parameter value that is NaN or infinite.
    #[error("parameter `{name}` is not finite ({})", crate::typed::display::num(.value))]
    NotFinite {
        /// The parameter.
        name: String,
        /// Its value.
        value: f64,
    },
}

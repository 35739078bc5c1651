// Transforms and defaults are typed expressions in the user's scope.
#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2", "rho")]
#[transforms(covreml::Transform::ExpPow2, 1.0)]
#[defaults(0.0, "zero")]
struct WrongTypes;

impl covreml::Custom for WrongTypes {
    type Shape = usize;
    fn dims(n: &usize) -> (usize, usize) {
        (*n, *n)
    }
    fn value<T: covreml::Real>(n: &usize, theta: &[T]) -> covreml::nalgebra::DMatrix<T> {
        covreml::nalgebra::DMatrix::from_element(*n, *n, theta[0])
    }
}

fn main() {}

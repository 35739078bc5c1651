//! The two seed examples of torch-openreml's `HadamardProduct` and
//! `KroneckerProduct` pages, reproduced with typed structures.
//!
//! Run: `cargo run --example seeds`

use covreml::{format_matrix, ops::Hadamard, ops::Kron, Covariance, Equicorrelation, Fixed};
use covreml::{Scalar, AR1};

fn main() -> Result<(), covreml::CovError> {
    // HadamardProduct(a=EquicorrelationMatrix(4), b=torch.tensor([5.0]))
    let had = Covariance::<Hadamard<Equicorrelation, Fixed>>::new((4, Fixed::scalar(5.0)))?
        .with_operand_names(&["a", "b"])?;
    let free = [1.0];
    println!("Hadamard<Equicorrelation, Fixed>: Equicorrelation(4) named a, times 5.0");
    println!("free parameters {free:?}");
    println!("value =\n{}", format_matrix(&had.value(&free)?, 4));
    let grad = had.jacobian(&free)?;
    println!("jacobian =");
    for (name, g) in had.free_names().iter().zip(&grad) {
        println!("d/d {name}:\n{}", format_matrix(g, 4));
    }
    println!("names = {:?}", had.free_names());
    let check = had.check_gradients(&free)?;
    println!(
        "closed form vs dual numbers: max |diff| = {:.1e}\n",
        check.max_abs_diff()
    );

    // KroneckerProduct(time=AR1Matrix(2), subject=ScalarMatrix(2))
    let kron =
        Covariance::<Kron<AR1, Scalar>>::new((2, 2))?.with_operand_names(&["time", "subject"])?;
    let free = [1.0, 1.0, 1.0];
    println!("Kron<AR1, Scalar>: AR1(2) named time, Scalar(2) named subject");
    println!("free parameters {free:?}");
    println!("value =\n{}", format_matrix(&kron.value(&free)?, 4));
    let grad = kron.jacobian(&free)?;
    println!("jacobian =");
    for (name, g) in kron.free_names().iter().zip(&grad) {
        println!("d/d {name}:\n{}", format_matrix(g, 4));
    }
    println!("names = {:?}", kron.free_names());
    let check = kron.check_gradients(&free)?;
    println!(
        "closed form vs dual numbers: max |diff| = {:.1e}",
        check.max_abs_diff()
    );
    println!(
        "size of Kron<AR1, Scalar> as a type: {} bytes",
        std::mem::size_of::<Kron<AR1, Scalar>>()
    );
    Ok(())
}

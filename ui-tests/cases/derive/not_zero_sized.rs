use std::marker::PhantomData;

#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2")]
struct WithData {
    n: usize,
    _size: PhantomData<u8>,
}

#[derive(Clone, Copy, Default, Debug, covreml::Structure)]
#[params("sigma^2")]
enum AnEnum {
    #[default]
    A,
}

fn main() {}

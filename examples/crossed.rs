fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/crossed_2000.csv");
    let m = covreml::data::crossed_model(&covreml::data::Table::read(path).unwrap()).unwrap();
    let f = m.fit(&covreml::reml::RemlOptions::default()).unwrap();
    println!("{f}");
}

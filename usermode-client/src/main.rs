//! `vigil`: the Vigil analyzer.

fn main() {
    println!("vigil {}", env!("CARGO_PKG_VERSION"));
}

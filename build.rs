// The templates, the app template (examples/server) and Cargo.lock are embedded in the binary
// with include_dir and include_str, which cargo does not track: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=examples/server");
    println!("cargo:rerun-if-changed=Cargo.lock");
}

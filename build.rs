// The templates, the app template (examples/server) and Cargo.lock are embedded in the binary
// with include_dir and include_str, which cargo does not track: rebuild when they change.
//
// The built-in templates are also parsed here, once, and their syntax trees written to
// OUT_DIR for `render` to load without parsing (see src/generate/template_codec.rs).
use std::fs;
use std::path::Path;

// build.rs writes the trees and the crate reads them: each uses half of the codec.
#[allow(dead_code)]
#[path = "src/generate/template_codec.rs"]
mod template_codec;

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=examples/server");
    println!("cargo:rerun-if-changed=scripts/conformance");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=src/generate/template_codec.rs");
    // A position-independent executable relocates 56,000 pointers at every start (most of
    // them chrono-tz's zone names, which Tera's `date` filter brings in): 380 copied pages
    // and 2 ms, half the time of `scaffold --version`. A fixed load address costs the
    // binary's own address randomisation; a local code generator that reads only the
    // project's files can afford it. Linux only, where cc takes the flag.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=scaffold=-no-pie");
    }

    let root = Path::new("templates");
    let mut templates = Vec::new();
    collect(root, root, &mut templates);
    // The crate looks templates up by name, so the order only matters for reproducible
    // builds: sorted, the file is the same from one build to the next.
    templates.sort_by(|a, b| a.name.cmp(&b.name));
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_templates.bin");
    fs::write(&out, template_codec::encode(&templates)).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, into: &mut Vec<tera::Template>) {
    for entry in fs::read_dir(dir).expect("templates/ is readable") {
        let path = entry.expect("templates/ is readable").path();
        if path.is_dir() {
            collect(root, &path, into);
        } else if path.to_string_lossy().ends_with(".tera") {
            let name = path.strip_prefix(root).expect("walked from root");
            let name = name.to_string_lossy().replace('\\', "/");
            let source = fs::read_to_string(&path).expect("templates are UTF-8");
            // Tera's parse errors carry the line, column and caret in their message.
            let template = tera::Template::new(&name, None, &source)
                .unwrap_or_else(|error| panic!("built-in template {name} does not parse: {error}"));
            into.push(template);
        }
    }
}

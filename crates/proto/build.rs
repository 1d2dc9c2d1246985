//! Compiles `proto/` with protox (no system protoc needed), generates prost types and tonic
//! services, and writes the encoded descriptor set (with custom options intact) for runtime use.
use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files: Vec<PathBuf> = ["auth", "management", "admin", "system"]
        .iter()
        .map(|s| root.join(format!("zitadel/{s}.proto")))
        .collect();
    println!("cargo:rerun-if-changed={}", root.display());

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true).include_source_info(false);
    compiler.open_files(&files)?;
    let encoded = compiler.encode_file_descriptor_set();
    let fds = compiler.file_descriptor_set();

    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out.join("descriptor.bin"), &encoded)?;

    let mut config = prost_build::Config::new();
    config.skip_protoc_run();
    tonic_prost_build::configure()
        .build_transport(false)
        .build_client(true)
        .build_server(true)
        .compile_fds_with_config(fds, config)?;
    Ok(())
}

//! Compiles `proto/` with protox (pure Rust, no system `protoc`), generates the tonic code and writes
//! the encoded descriptor set that gRPC server reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos: Vec<PathBuf> = fs::read_dir("proto/identity/v1")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    println!("cargo:rerun-if-changed=proto");

    let fds = protox::compile(&protos, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("identity_descriptor.bin"), fds.encode_to_vec())?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // prost's codec, but undecodable requests are INVALID_ARGUMENT rather than INTERNAL.
        .codec_path("crate::transport::grpc::codec::ProtoCodec")
        .compile_fds(fds)?;
    Ok(())
}

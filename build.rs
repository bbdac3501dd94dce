//! Compiles `proto/` with protox (pure Rust, no system `protoc`), generates the tonic code, writes
//! the encoded descriptor set that gRPC server reflection serves, and gives every message with a
//! field marked `(identity.v1.sensitive)` a `Debug` that prints `[redacted]` for that field, and
//! turns the `(identity.v1.policy)` of every RPC into the table the authorization layer reads.

use std::{collections::BTreeMap, env, fmt::Write as _, fs, path::PathBuf};

use prost_reflect::{DescriptorPool, MessageDescriptor, Value};

/// The field option that marks secrets (proto/identity/v1/options.proto).
const SENSITIVE: &str = "identity.v1.sensitive";

/// The method option that says who may call an RPC (proto/identity/v1/options.proto).
const POLICY: &str = "identity.v1.policy";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos: Vec<PathBuf> = fs::read_dir("proto/identity/v1")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    println!("cargo:rerun-if-changed=proto");

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(&protos)?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    // Encoded from the pool itself, so custom options survive for code that reads them.
    fs::write(
        out_dir.join("identity_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    let redacted = redacted_messages(&compiler.descriptor_pool())?;
    let mut config = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // prost's codec, but undecodable requests are INVALID_ARGUMENT rather than INTERNAL.
        .codec_path("crate::transport::grpc::codec::ProtoCodec");
    for message in redacted.keys() {
        config = config.skip_debug([format!(".{message}")]);
    }
    config.compile_fds(compiler.file_descriptor_set())?;
    fs::write(out_dir.join("identity_redacted.rs"), debug_impls(&redacted)?)?;
    fs::write(
        out_dir.join("identity_policies.rs"),
        policies(&compiler.descriptor_pool())?,
    )?;
    Ok(())
}

/// A message's Rust fields as `(name, sensitive)`, in declaration order, by the message's full name.
type Redacted = BTreeMap<String, Vec<(String, bool)>>;

/// Each message of package `identity.v1` with a sensitive field.
fn redacted_messages(pool: &DescriptorPool) -> Result<Redacted, Box<dyn std::error::Error>> {
    let sensitive = pool
        .get_extension_by_name(SENSITIVE)
        .ok_or("proto/identity/v1/options.proto must define identity.v1.sensitive")?;
    let mut found = BTreeMap::new();
    for message in pool.all_messages() {
        if message.package_name() != "identity.v1" {
            continue;
        }
        let is_sensitive = |field: &prost_reflect::FieldDescriptor| {
            matches!(
                field.options().get_extension(&sensitive).as_ref(),
                Value::Bool(true)
            )
        };
        if !message.fields().any(|f| is_sensitive(&f)) {
            continue;
        }
        if message.parent_message().is_some() {
            return Err(format!(
                "{}: sensitive fields are supported in top-level messages only",
                message.full_name()
            )
            .into());
        }
        found.insert(
            message.full_name().to_owned(),
            rust_fields(&message, is_sensitive),
        );
    }
    Ok(found)
}

/// The Rust fields prost generates for `message`: one per field, and one per oneof (sensitive
/// when any of its fields is).
fn rust_fields(
    message: &MessageDescriptor,
    is_sensitive: impl Fn(&prost_reflect::FieldDescriptor) -> bool,
) -> Vec<(String, bool)> {
    let mut fields: Vec<(String, bool)> = Vec::new();
    for field in message.fields() {
        match field.containing_oneof().filter(|oneof| !oneof.is_synthetic()) {
            Some(oneof) => {
                let name = rust_name(oneof.name());
                match fields.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 |= is_sensitive(&field),
                    None => fields.push((name, is_sensitive(&field))),
                }
            }
            None => fields.push((rust_name(field.name()), is_sensitive(&field))),
        }
    }
    fields
}

/// A proto field name as prost spells the Rust field: raw for keywords.
fn rust_name(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
        "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
        "while",
    ];
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_owned()
    }
}

/// `Debug` impls for the messages prost was told not to derive one for.
fn debug_impls(messages: &Redacted) -> Result<String, Box<dyn std::error::Error>> {
    let mut code = String::from("// Generated by build.rs: Debug that redacts sensitive fields.\n");
    for (full_name, fields) in messages {
        let name = full_name.rsplit('.').next().unwrap_or(full_name);
        writeln!(code, "impl ::core::fmt::Debug for {name} {{")?;
        writeln!(
            code,
            "    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{"
        )?;
        writeln!(code, "        f.debug_struct({name:?})")?;
        for (field, sensitive) in fields {
            let label = field.trim_start_matches("r#");
            if *sensitive {
                writeln!(
                    code,
                    "            .field({label:?}, &crate::domain::secret::REDACTED)"
                )?;
            } else {
                writeln!(code, "            .field({label:?}, &self.{field})")?;
            }
        }
        writeln!(code, "            .finish()\n    }}\n}}")?;
    }
    Ok(code)
}

/// The policy table: one `Policy` per RPC of package `identity.v1`, in the order of the
/// descriptor pool, and a `match` from a gRPC path to its entry. An RPC without a policy, a policy
/// without callers and a REST operation claimed by two RPCs fail the build.
fn policies(pool: &DescriptorPool) -> Result<String, Box<dyn std::error::Error>> {
    let policy = pool
        .get_extension_by_name(POLICY)
        .ok_or("proto/identity/v1/options.proto must define identity.v1.policy")?;
    let caller_enum = pool
        .get_enum_by_name("identity.v1.Caller")
        .ok_or("proto/identity/v1/options.proto must define identity.v1.Caller")?;
    let mut entries = String::new();
    let mut paths = String::new();
    let mut rest_seen = BTreeMap::new();
    let mut index = 0usize;
    for service in pool.services() {
        if service.package_name() != "identity.v1" {
            continue;
        }
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            let options = method.options();
            if !options.has_extension(&policy) {
                return Err(format!("{path} declares no (identity.v1.policy)").into());
            }
            let value = options.get_extension(&policy);
            let message = value.as_message().ok_or("identity.v1.policy is not a message")?;
            let field = |name: &str| message.get_field_by_name(name).map(|v| v.into_owned());
            let mut callers = Vec::new();
            if let Some(Value::List(list)) = field("callers") {
                for caller in list {
                    let number = caller.as_enum_number().ok_or("callers holds a non-enum")?;
                    let name = caller_enum
                        .get_value(number)
                        .map(|v| v.name().to_owned())
                        .unwrap_or_default();
                    let kind = match name.as_str() {
                        "CALLER_PUBLIC" => "Public",
                        "CALLER_ENVIRONMENT" => "Environment",
                        "CALLER_USER" => "User",
                        "CALLER_OPERATOR" => "Operator",
                        _ => return Err(format!("{path}: caller {name} cannot be allowed").into()),
                    };
                    callers.push(format!("Kind::{kind}"));
                }
            }
            if callers.is_empty() {
                return Err(format!("{path}: its policy allows no caller").into());
            }
            let permission = match field("permission") {
                Some(Value::String(p)) if !p.is_empty() => format!("Some({p:?})"),
                _ => "None".to_owned(),
            };
            let mut rest = Vec::new();
            if let Some(Value::List(list)) = field("rest") {
                for operation in list {
                    let operation = operation.as_str().ok_or("rest holds a non-string")?.to_owned();
                    if let Some(other) = rest_seen.insert(operation.clone(), path.clone()) {
                        return Err(format!("{operation} is claimed by {other} and {path}").into());
                    }
                    rest.push(format!("{operation:?}"));
                }
            }
            writeln!(
                entries,
                "    Policy {{ rpc: {path:?}, callers: &[{}], permission: {permission}, rest: &[{}] }},",
                callers.join(", "),
                rest.join(", ")
            )?;
            writeln!(paths, "        {path:?} => Some(&POLICIES[{index}]),")?;
            index += 1;
        }
    }
    Ok(format!(
        "// Generated by build.rs from the (identity.v1.policy) of every RPC.\n\
         /// The policy of every RPC of package `identity.v1`.\n\
         pub static POLICIES: &[Policy] = &[\n{entries}];\n\n\
         /// The policy of the RPC at gRPC path `path` (`/identity.v1.UserService/GetUser`).\n\
         pub fn by_path(path: &str) -> Option<&'static Policy> {{\n    match path {{\n{paths}        _ => None,\n    }}\n}}\n"
    ))
}

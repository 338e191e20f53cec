//! Shared bits of the example binaries: a tiny flag parser and the runtime choice.
//!
//! Each runtime's versions of the examples live in their own module (`smol_rt`, `mio_rt`); the
//! binaries in `src/bin` pick one by `--runtime`.

pub mod mio_rt;
pub mod smol_rt;
pub mod stomp_scenario;

use std::collections::HashMap;

/// `--name value` flags and bare `--switch`es.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
}

impl Args {
    /// Parse the process arguments; `usage` is printed on `--help` or a stray argument.
    pub fn parse(usage: &str) -> Args {
        let mut values = HashMap::new();
        let mut it = std::env::args().skip(1).peekable();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                fail(usage, &format!("unexpected argument {arg:?}"));
            };
            if name == "help" {
                println!("{usage}");
                std::process::exit(0);
            }
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().unwrap(),
                _ => String::from("true"),
            };
            values.insert(name.to_owned(), value);
        }
        Args { values }
    }

    /// A flag's value, or `default`.
    pub fn get_or(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// A flag's value, if given.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

/// Print `why` and the usage, and exit with status 2.
pub fn fail(usage: &str, why: &str) -> ! {
    eprintln!("error: {why}\n\n{usage}");
    std::process::exit(2);
}

/// The runtimes an example can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `duplex-tokio`.
    Tokio,
    /// `duplex-smol`.
    Smol,
    /// `duplex-mio`.
    Mio,
}

impl Runtime {
    /// Parse `--runtime`.
    pub fn parse(name: &str, usage: &str) -> Runtime {
        match name {
            "tokio" => Runtime::Tokio,
            "smol" => Runtime::Smol,
            "mio" => Runtime::Mio,
            other => fail(
                usage,
                &format!("unknown runtime {other:?} (tokio, smol, mio)"),
            ),
        }
    }
}

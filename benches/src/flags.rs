//! A tiny `--name value` / `--switch` parser for the bench binaries.

use std::collections::HashMap;
use std::str::FromStr;

/// Parsed flags.
#[derive(Debug, Default)]
pub struct Flags {
    values: HashMap<String, String>,
    usage: String,
}

impl Flags {
    /// Parse the process arguments; `--help` prints `usage`, a stray argument exits with it.
    pub fn parse(usage: &str) -> Flags {
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
                Some(v) if !v.starts_with("--") => it.next().expect("peeked"),
                _ => String::from("true"),
            };
            values.insert(name.to_owned(), value);
        }
        Flags {
            values,
            usage: usage.to_owned(),
        }
    }

    /// A flag's value parsed as `T`, or `default`; exits with the usage if it does not parse.
    pub fn get<T: FromStr>(&self, name: &str, default: T) -> T {
        self.opt(name).unwrap_or(default)
    }

    /// A flag's value parsed as `T`, if given; exits with the usage if it does not parse.
    pub fn opt<T: FromStr>(&self, name: &str) -> Option<T> {
        self.values.get(name).map(|v| {
            v.parse()
                .unwrap_or_else(|_| fail(&self.usage, &format!("--{name}: bad value {v:?}")))
        })
    }

    /// A string flag, or `default`.
    pub fn string(&self, name: &str, default: &str) -> String {
        self.values
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// A bare switch was given.
    pub fn switch(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

/// Print `why` and `usage`, exit with status 2.
pub fn fail(usage: &str, why: &str) -> ! {
    eprintln!("error: {why}\n\n{usage}");
    std::process::exit(2);
}

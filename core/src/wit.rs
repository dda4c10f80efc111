//! The `carol:machine` WIT package: the contract between machines and the nodes that run them.

/// The name and version of the `carol:machine` WIT package that nodes provide.
pub const PACKAGE: &str = "carol:machine@0.1.1";

/// The versions of the package a node accepts in a machine's imports: this one and, since
/// 0.1.1 only added interfaces, 0.1.0.
pub const ACCEPTED: &str = "carol:machine@0.1.1 (or @0.1.0)";

/// The text of the `carol:machine` WIT package (`wit/machine.wit`), as a machine crate's
/// `wit/deps/carol-machine/machine.wit` holds it.
pub const TEXT: &str = include_str!("../../wit/machine.wit");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_declares_the_package() {
        assert!(TEXT.starts_with(&format!("package {PACKAGE};")));
        assert!(ACCEPTED.starts_with(PACKAGE));
    }
}

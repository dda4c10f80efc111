//! How activations are named, and how requests may spell WIT names.
//!
//! A function exported at the top level of a component is the activation of its own name
//! (`say`); a function `mul` of an exported interface `example:calc/calc@0.1.0` is `calc/mul`:
//! the interface's short name, a slash, the function's name. Names are WIT's kebab-case; a
//! request may spell any WIT name (activation, parameter, field, case, flag) in snake_case.

/// The activation name of `function`, exported at the top level (`interface` is `None`) or in
/// the exported interface of that full export name.
///
/// ```
/// use carol_core::names::activation_name;
/// assert_eq!(activation_name(None, "say"), "say");
/// assert_eq!(activation_name(Some("example:calc/calc@0.1.0"), "mul"), "calc/mul");
/// ```
pub fn activation_name(interface: Option<&str>, function: &str) -> String {
    match interface {
        Some(interface) => format!("{}/{function}", interface_short_name(interface)),
        None => function.to_owned(),
    }
}

/// The short name of an exported interface: `calc` for `example:calc/calc@0.1.0` or a plain
/// `calc`.
pub fn interface_short_name(export: &str) -> &str {
    let path = export.rsplit('/').next().unwrap_or(export);
    path.split('@').next().unwrap_or(path)
}

/// Whether `requested` spells the WIT (kebab-case) name `wit`, in kebab-case or snake_case.
///
/// ```
/// use carol_core::names::names_match;
/// assert!(names_match("attest-to-price", "attest_to_price"));
/// assert!(!names_match("attest_to", "attest-to"));
/// ```
pub fn names_match(wit: &str, requested: &str) -> bool {
    wit.len() == requested.len()
        && wit
            .bytes()
            .zip(requested.bytes())
            .all(|(w, r)| w == r || (w == b'-' && r == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_short_names() {
        assert_eq!(interface_short_name("example:calc/calc@0.1.0"), "calc");
        assert_eq!(interface_short_name("example:calc/calc"), "calc");
        assert_eq!(interface_short_name("calc"), "calc");
    }

    #[test]
    fn snake_case_spellings_match() {
        assert!(names_match("attest-to-price", "attest_to_price"));
        assert!(names_match("calc/mul", "calc/mul"));
        assert!(!names_match("attest_to", "attest-to"));
        assert!(!names_match("say", "sa"));
    }
}

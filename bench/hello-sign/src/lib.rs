//! The load benchmark's machine: `say(message)` answers `hello <message>` as the hello-world
//! example does, and `sign(message)` signs `hello <message>` with the node's key, to measure
//! what an activation that calls `bls-sign` costs next to one that does not.

carol_guest::generate!({ world: "hello-sign" });

struct HelloSign;

impl Guest for HelloSign {
    fn say(message: String) -> String {
        format!("hello {message}")
    }

    fn sign(message: String) -> Vec<u8> {
        carol_guest::sign(format!("hello {message}").as_bytes())
    }
}

export!(HelloSign);

//! The smallest Carol machine: `say(message)` answers `hello <message>`.

carol_guest::generate!({ world: "hello-world" });

struct HelloWorld;

impl Guest for HelloWorld {
    fn say(message: String) -> String {
        format!("hello {message}")
    }
}

export!(HelloWorld);

//! A test machine that imports an interface no Carol node provides.

carol_guest::generate!({ world: "bad-import" });

struct BadImport;

impl Guest for BadImport {
    fn call() -> u32 {
        test::bad_import::unknown::thing()
    }
}

export!(BadImport);

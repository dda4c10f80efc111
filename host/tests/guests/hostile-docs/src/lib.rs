//! A test machine whose doc comments are markup that would run as script if a page put them
//! into its HTML unescaped.

carol_guest::generate!({ world: "hostile-docs" });

struct HostileDocs;

impl Guest for HostileDocs {
    fn echo(text: String) -> String {
        text
    }
}

export!(HostileDocs);

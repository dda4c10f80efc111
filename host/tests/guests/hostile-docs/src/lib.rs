//! A test machine whose doc comments are markup that would run as script if a page put them
//! into its HTML unescaped, and whose parameter names are a form's own properties.

carol_guest::generate!({ world: "hostile-docs" });

struct HostileDocs;

impl Guest for HostileDocs {
    fn echo(text: String) -> String {
        text
    }

    fn form_words(elements: String, submit: String, action: String) -> String {
        format!("{elements} {submit} {action}")
    }
}

export!(HostileDocs);

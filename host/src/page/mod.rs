//! The HTML pages a browser gets: the node's (`GET /`) and a machine's (`GET /machines/{id}`,
//! `GET /machines/{id}/http/`), with a form per activation that runs it over `fetch`.
//!
//! Everything a component names (activations, parameters, types, cases, flags, doc comments)
//! is untrusted. It is HTML-escaped wherever it becomes text or an attribute value; doc comments
//! are Markdown rendered with every raw HTML tag shown as text and only safe links kept
//! (`markdown`); what the page's script needs goes into a JSON data block with `<`, `>` and `&`
//! escaped, so no string can end the block. The style and the script are the node's own
//! constants, allowed by their SHA-256 in the Content-Security-Policy
//! ([`content_security_policy`]): markup that got past the escaping could still load and run
//! nothing.

mod forms;
mod html;
mod machine;
mod markdown;
mod node;
mod wit;

pub use html::content_security_policy;
pub use machine::MachinePage;
pub use node::NodePage;

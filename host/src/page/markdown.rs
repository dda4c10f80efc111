//! Doc comments as the pages show them: Markdown (CommonMark) rendered to HTML, with inline
//! code, emphasis, lists, code blocks and links, and nothing a component could use to inject
//! markup.
//!
//! Doc comments come from the component, so they are untrusted: raw HTML in them is shown as
//! text, never interpreted; links keep their target only for `http`, `https`, `mailto` and
//! in-page `#` targets (any other, `javascript:` among them, is shown as its text); images show
//! their description; headings are shown as bold paragraphs, so they do not break the page's
//! outline. pulldown-cmark escapes all text and attribute values it writes.

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Schemes a link in a doc comment may point to.
const SAFE_SCHEMES: &[&str] = &["http:", "https:", "mailto:"];

/// The HTML of a doc comment.
pub(super) fn render(docs: &str) -> String {
    let mut out = String::with_capacity(docs.len() * 3 / 2);
    // Every link's start is matched by its end: whether the start was kept decides the end.
    let mut links_kept = Vec::new();
    let events = Parser::new_ext(docs, Options::empty()).flat_map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => vec![Event::Text(html)],
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            // An e-mail autolink's target is written as `mailto:` followed by the address.
            let keep = link_type == LinkType::Email || is_safe(&dest_url);
            links_kept.push(keep);
            if keep {
                vec![Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })]
            } else {
                Vec::new()
            }
        }
        Event::End(TagEnd::Link) => {
            if links_kept.pop().unwrap_or(false) {
                vec![Event::End(TagEnd::Link)]
            } else {
                Vec::new()
            }
        }
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => Vec::new(),
        Event::Start(Tag::Heading { .. }) => {
            vec![Event::Start(Tag::Paragraph), Event::Start(Tag::Strong)]
        }
        Event::End(TagEnd::Heading(_)) => {
            vec![Event::End(TagEnd::Strong), Event::End(TagEnd::Paragraph)]
        }
        other => vec![other],
    });
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// Whether a link target is one a page may follow.
fn is_safe(target: &CowStr<'_>) -> bool {
    let lower = target.trim_start().to_ascii_lowercase();
    lower.starts_with('#') || SAFE_SCHEMES.iter().any(|scheme| lower.starts_with(scheme))
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_is_rendered() {
        assert_eq!(
            render("Answers `hello <message>`, *kindly*."),
            "<p>Answers <code>hello &lt;message&gt;</code>, <em>kindly</em>.</p>\n"
        );
        assert_eq!(
            render("- one\n- **two**"),
            "<ul>\n<li>one</li>\n<li><strong>two</strong></li>\n</ul>\n"
        );
        assert_eq!(
            render("See [the spec](https://github.com/discreetlogcontracts/dlcspecs)."),
            "<p>See <a href=\"https://github.com/discreetlogcontracts/dlcspecs\">the spec</a>.</p>\n"
        );
        assert_eq!(render("# Title"), "<p><strong>Title</strong></p>\n");
    }

    #[test]
    fn markup_is_shown_as_text() {
        let html = render(
            "Returns `text`. <script>document.title='pwned'</script>\n</script><img src=x onerror=alert(1)>",
        );
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
            "{html}"
        );
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        let block = render("<div onclick=\"x()\">\n\nhi\n\n</div>");
        assert!(!block.contains("<div"), "{block}");
        assert!(block.contains("&lt;div onclick=\"x()\"&gt;"), "{block}");
    }

    #[test]
    fn only_safe_links_are_links() {
        for (docs, text) in [
            ("[click](javascript:alert(1))", "click"),
            ("[x](JavaScript:alert(1))", "x"),
            ("[d](data:text/html,hi)", "d"),
            ("[rel](../machines)", "rel"),
            ("<javascript:alert(1)>", "javascript:alert(1)"),
            ("![alt text](https://tracker.example/pixel.png)", "alt text"),
        ] {
            let html = render(docs);
            assert!(
                !html.contains("<a") && !html.contains("<img"),
                "{docs}: {html}"
            );
            assert!(html.contains(text), "{docs}: {html}");
        }
        assert!(render("[top](#type-point)").contains("<a href=\"#type-point\">top</a>"));
        assert!(render("<mailto:ops@example.com>").contains("<a href=\"mailto:ops@example.com\">"));
    }
}

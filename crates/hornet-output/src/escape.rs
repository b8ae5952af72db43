//! Escaping text from a report for HTML and XML: the one place that maps the markup characters
//! (`& < > " '`) to references, with the rules each output needs for the other characters.

/// What happens to the characters that are not markup.
#[derive(Debug, Clone, Copy)]
enum Rules {
    /// HTML; control characters become spaces, except newline and tab when `keep_breaks`.
    Html { keep_breaks: bool },
    /// XML 1.0; characters it cannot carry become U+FFFD, `\r` a character reference, and in an
    /// attribute `\n` and `\t` too (attribute-value normalization would turn them into spaces).
    Xml { attribute: bool },
}

fn escape(s: &str, rules: Rules) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(if matches!(rules, Rules::Xml { .. }) { "&apos;" } else { "&#39;" }),
            c => match rules {
                Rules::Html { keep_breaks } => {
                    if keep_breaks && matches!(c, '\n' | '\t') {
                        out.push(c);
                    } else if c.is_control() {
                        out.push(' ');
                    } else {
                        out.push(c);
                    }
                }
                Rules::Xml { attribute } => match c {
                    '\n' if attribute => out.push_str("&#10;"),
                    '\r' => out.push_str("&#13;"),
                    '\t' if attribute => out.push_str("&#9;"),
                    c if !xml_char(c) => out.push('\u{FFFD}'),
                    c => out.push(c),
                },
            },
        }
    }
    out
}

/// True for a character XML 1.0 can carry.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// HTML-escapes text for element content and quoted attribute values. Control characters other
/// than newline and tab (escape sequences from a server's message) become spaces.
pub fn html(s: &str) -> String {
    escape(s, Rules::Html { keep_breaks: true })
}

/// Like [`html`], for text shown on one line: every control character, newline and tab included,
/// becomes a space.
pub(crate) fn html_line(s: &str) -> String {
    escape(s, Rules::Html { keep_breaks: false })
}

/// `s` escaped for XML element content.
pub(crate) fn xml_text(s: &str) -> String {
    escape(s, Rules::Xml { attribute: false })
}

/// `s` escaped for a double-quoted XML attribute value (line breaks and tabs as character
/// references).
pub(crate) fn xml_attr(s: &str) -> String {
    escape(s, Rules::Xml { attribute: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_blanks_control_characters() {
        assert_eq!(html("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(html("a\x1b[31mb\nc"), "a [31mb\nc");
        assert_eq!(html_line("a\x1b[31mb\nc\td"), "a [31mb c d");
        assert_eq!(html_line("<'&'>"), "&lt;&#39;&amp;&#39;&gt;");
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(xml_attr(r#"a<b & "c" 'd'>"#), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
        assert_eq!(xml_attr("x\ny\tz\r"), "x&#10;y&#9;z&#13;");
        assert_eq!(xml_text("x\ny\tz"), "x\ny\tz");
        assert_eq!(xml_text("bell\u{7}nul\u{0}\u{FFFF}"), "bell\u{FFFD}nul\u{FFFD}\u{FFFD}");
        assert_eq!(xml_text("é ✓ 😀"), "é ✓ 😀");
    }
}

//! A rough markdown renderer: enough for `html`/`text` to look like the cloud's and for
//! `<@personId:..>` / `<@personEmail:..>` / `<@all>` mentions to fill `mentionedPeople` /
//! `mentionedGroups`. Not CommonMark: bold, italics, code, links and line breaks only.

/// What a markdown message renders to.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Rendered {
    pub html: String,
    pub text: String,
    pub mentioned_people: Vec<String>,
    pub mentioned_groups: Vec<String>,
}

/// Resolves a mention (`personId`/`personEmail`, value) to `(hydra person id, display name)`.
pub(crate) type Resolver<'a> = &'a dyn Fn(&str, &str) -> Option<(String, String)>;

/// Renders `md`.
pub(crate) fn render(md: &str, resolve: Resolver<'_>) -> Rendered {
    let mut out = Rendered::default();
    let mut html = String::new();
    let mut text = String::new();
    let mut rest = md;
    while let Some(start) = rest.find("<@") {
        let (before, tail) = rest.split_at(start);
        inline(before, &mut html, &mut text);
        let Some(end) = tail.find('>') else {
            inline(tail, &mut html, &mut text);
            rest = "";
            break;
        };
        mention(&tail[2..end], resolve, &mut out, &mut html, &mut text);
        rest = &tail[end + 1..];
    }
    inline(rest, &mut html, &mut text);
    out.html = format!("<p>{}</p>", html.replace('\n', "<br/>"));
    out.text = text;
    out
}

fn mention(inner: &str, resolve: Resolver<'_>, out: &mut Rendered, html: &mut String, text: &mut String) {
    let (target, label) = inner.split_once('|').unwrap_or((inner, ""));
    if target == "all" {
        let label = if label.is_empty() { "All" } else { label };
        html.push_str(&format!(
            "<spark-mention data-object-type=\"groupMention\" data-group-type=\"all\">{}</spark-mention>",
            escape(label)
        ));
        text.push_str(label);
        if !out.mentioned_groups.iter().any(|g| g == "all") {
            out.mentioned_groups.push("all".into());
        }
        return;
    }
    let resolved = target.split_once(':').and_then(|(kind, value)| resolve(kind, value));
    match resolved {
        Some((id, name)) => {
            let label = if label.is_empty() { name.as_str() } else { label };
            html.push_str(&format!(
                "<spark-mention data-object-type=\"person\" data-object-id=\"{id}\">{}</spark-mention>",
                escape(label)
            ));
            text.push_str(label);
            if !out.mentioned_people.contains(&id) {
                out.mentioned_people.push(id);
            }
        }
        // Not a mention we understand: keep it as literal text.
        None => inline(&format!("<@{inner}>"), html, text),
    }
}

/// Renders inline markup of a mention-free fragment.
fn inline(s: &str, html: &mut String, text: &mut String) {
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = wrapped(rest, "**", "strong", html, text)
            .or_else(|| wrapped(rest, "__", "strong", html, text))
            .or_else(|| wrapped(rest, "*", "em", html, text))
            .or_else(|| wrapped(rest, "_", "em", html, text))
            .or_else(|| wrapped(rest, "`", "code", html, text))
            .or_else(|| link(rest, html, text))
        {
            rest = r;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        html.push_str(&escape(&c.to_string()));
        text.push(c);
        rest = &rest[c.len_utf8()..];
    }
}

fn wrapped<'a>(s: &'a str, mark: &str, tag: &str, html: &mut String, text: &mut String) -> Option<&'a str> {
    let inner_and_rest = s.strip_prefix(mark)?;
    let end = inner_and_rest.find(mark)?;
    let inner = &inner_and_rest[..end];
    if inner.is_empty() || inner.starts_with(' ') {
        return None;
    }
    html.push_str(&format!("<{tag}>{}</{tag}>", escape(inner)));
    text.push_str(inner);
    Some(&inner_and_rest[end + mark.len()..])
}

fn link<'a>(s: &'a str, html: &mut String, text: &mut String) -> Option<&'a str> {
    let after = s.strip_prefix('[')?;
    let close = after.find("](")?;
    let label = &after[..close];
    let url_and_rest = &after[close + 2..];
    let end = url_and_rest.find(')')?;
    let url = &url_and_rest[..end];
    html.push_str(&format!("<a href=\"{}\">{}</a>", escape(url), escape(label)));
    text.push_str(label);
    Some(&url_and_rest[end + 1..])
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_marks_links_and_mentions() {
        let resolve = |kind: &str, v: &str| {
            (kind == "personEmail" && v == "bob@example.com").then(|| ("BOBID".to_string(), "Bob".to_string()))
        };
        let r = render("**Hi** <@personEmail:bob@example.com>, see [docs](http://x/y) <@all> <b>", &resolve);
        assert_eq!(r.text, "Hi Bob, see docs All <b>");
        assert!(r.html.starts_with("<p><strong>Hi</strong> <spark-mention"));
        assert!(r.html.contains("&lt;b&gt;"));
        assert_eq!(r.mentioned_people, vec!["BOBID".to_string()]);
        assert_eq!(r.mentioned_groups, vec!["all".to_string()]);
    }
}

//! One `expect` map: status codes, content type, properties, equality, headers and regexps.

use super::super::{Cx, EXPECT, Result};
use super::capture::Flags;
use super::is_template;
use crate::plan::Expect;
use crate::template::Template;
use crate::yaml::{Node, ScalarKind, Value};

impl Cx<'_> {
    /// One `expect` map: every key is one expectation.
    pub(super) fn expects(&self, node: &Node, out: &mut Vec<Expect>) -> Result<()> {
        let map = self.map(node, "each expectation", &EXPECT, false).map_err(|e| {
            if e.help.is_none() { e.with_help("an expectation is a map like `- statusCode: 200`") } else { e }
        })?;
        for e in map.entries {
            let what = format!("`{}`", e.key);
            out.push(match e.key.as_str() {
                "statusCode" => match self.status_codes(&e.value, &what)? {
                    StatusCodes::Fixed(codes) => Expect::StatusCode(codes),
                    StatusCodes::Rendered(templates) => Expect::StatusCodeRendered(templates),
                },
                "notStatusCode" => match self.status_codes(&e.value, &what)? {
                    StatusCodes::Fixed(codes) => Expect::NotStatusCode(codes),
                    StatusCodes::Rendered(templates) => Expect::NotStatusCodeRendered(templates),
                },
                "contentType" => Expect::ContentType(self.scalar_template(&e.value, &what)?),
                "hasProperty" if is_template(&e.value) => {
                    Expect::HasPropertyRendered(self.template(&e.value, &what)?)
                }
                "notHasProperty" if is_template(&e.value) => {
                    Expect::NotHasPropertyRendered(self.template(&e.value, &what)?)
                }
                "hasProperty" => Expect::HasProperty(self.name(&e.value, &what)?.to_string()),
                "notHasProperty" => Expect::NotHasProperty(self.name(&e.value, &what)?.to_string()),
                "equals" => {
                    let items = self.list(&e.value, &what)?;
                    if let [one] = items {
                        // Artillery compares the values with one another: one value always passes.
                        self.scalar_template(one, "a value of `equals`")?;
                        self.warn(
                            self.err(e.value.span, "`equals` with a single value checks nothing: Artillery passes it, and so does hornet")
                                .with_help("compare two values, for example `equals: [\"{{ status }}\", \"ok\"]`"),
                        );
                        continue;
                    }
                    if items.len() < 2 {
                        return Err(self
                            .err(e.value.span, "`equals` needs at least two values to compare")
                            .with_help("for example `equals: [\"{{ status }}\", \"ok\"]`"));
                    }
                    Expect::Equals(
                        items
                            .iter()
                            .map(|i| self.scalar_template(i, "a value of `equals`"))
                            .collect::<Result<_>>()?,
                    )
                }
                "hasHeader" => {
                    let text = self.name(&e.value, &what)?;
                    Expect::HasHeader(self.header_name(text, e.value.span)?)
                }
                "headerEquals" => {
                    let items = self.list(&e.value, &what)?;
                    let [name, value] = items else {
                        return Err(self
                            .err(
                                e.value.span,
                                format!(
                                    "`headerEquals` takes a header name and a value, found {} item(s)",
                                    items.len()
                                ),
                            )
                            .with_help("for example `headerEquals: [content-type, application/json]`"));
                    };
                    let text = self.name(name, "the header name")?;
                    Expect::HeaderEquals(
                        self.header_name(text, name.span)?,
                        self.scalar_template(value, "the header value")?,
                    )
                }
                _ => Expect::MatchesRegexp(self.regex(&e.value, &what, Flags::default())?),
            });
        }
        Ok(())
    }

    /// A status code or a non-empty list of them.
    /// The status codes of `statusCode` or `notStatusCode`: numbers (`200`, `"201"`), or, when one
    /// of them is a template, templates rendered at run time.
    fn status_codes(&self, node: &Node, what: &str) -> Result<StatusCodes> {
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        if items.is_empty() {
            return Err(self.err(node.span, format!("{what} is empty")));
        }
        if items.iter().any(|i| is_template(i)) {
            return Ok(StatusCodes::Rendered(
                items.into_iter().map(|i| self.scalar_template(i, what)).collect::<Result<_>>()?,
            ));
        }
        let codes = items
            .into_iter()
            .map(|i| {
                // Artillery compares with `Number(...)`, so `"200"` is 200.
                let n = match &i.value {
                    Value::Scalar(s) if s.kind == ScalarKind::Str => s.text.trim().parse::<u64>().ok(),
                    _ => None,
                };
                let n = match n {
                    Some(n) => n,
                    None => self
                        .whole(i, what)
                        .map_err(|e| e.with_help("status codes are numbers, e.g. `200` or `[200, 201]`"))?,
                };
                if !(100..=599).contains(&n) {
                    return Err(self.err(i.span, format!("{n} is not an HTTP status code (100 to 599)")));
                }
                Ok(n as u16)
            })
            .collect::<Result<_>>()?;
        Ok(StatusCodes::Fixed(codes))
    }
}

/// The values of `statusCode` or `notStatusCode`.
enum StatusCodes {
    /// Known at load.
    Fixed(Vec<u16>),
    /// With a template among them, rendered for each response.
    Rendered(Vec<Template>),
}

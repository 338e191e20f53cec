//! Destination patterns: subscription wildcards and `/app` handler templates.
//!
//! A destination is split into segments at the configured separator (default `/`, as Spring's
//! `AntPathMatcher`; set it to `.` for RabbitMQ-style names). In a pattern:
//! - `**` as a whole segment matches zero or more segments;
//! - `*` inside a segment matches any run of characters within that segment (`chat.*` matches
//!   `chat.room1`; `*` alone matches exactly one whole segment), `?` matches one character;
//! - `{name}` as a whole segment (handler templates only) matches one segment and captures it.
//!
//! Everything else is literal. Matching is case sensitive.

/// One piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Glob(String),
    Var(String),
    AnyMany,
}

/// A parsed destination pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    source: String,
    separator: char,
    segments: Vec<Segment>,
}

impl Pattern {
    /// Parse `pattern`; `{name}` segments are captures only when `captures` is true.
    pub(crate) fn parse(pattern: &str, separator: char, captures: bool) -> Pattern {
        let segments = pattern
            .split(separator)
            .map(|s| {
                if s == "**" {
                    Segment::AnyMany
                } else if captures && s.len() > 2 && s.starts_with('{') && s.ends_with('}') {
                    Segment::Var(s[1..s.len() - 1].to_owned())
                } else if s.contains(['*', '?']) {
                    Segment::Glob(s.to_owned())
                } else {
                    Segment::Literal(s.to_owned())
                }
            })
            .collect();
        Pattern {
            source: pattern.to_owned(),
            separator,
            segments,
        }
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern is a plain destination (no wildcard, no capture).
    pub(crate) fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Literal(_)))
    }

    /// Whether `destination` matches.
    pub(crate) fn matches(&self, destination: &str) -> bool {
        let parts: Vec<&str> = destination.split(self.separator).collect();
        match_segments(&self.segments, &parts, &mut None)
    }

    /// Match `destination`, returning the captured `{name}` segments in pattern order.
    pub(crate) fn captures(&self, destination: &str) -> Option<Vec<(String, String)>> {
        let parts: Vec<&str> = destination.split(self.separator).collect();
        let mut vars = Some(Vec::new());
        match_segments(&self.segments, &parts, &mut vars).then(|| vars.unwrap_or_default())
    }
}

fn match_segments(
    pattern: &[Segment],
    parts: &[&str],
    vars: &mut Option<Vec<(String, String)>>,
) -> bool {
    let Some((first, rest)) = pattern.split_first() else {
        return parts.is_empty();
    };
    match first {
        Segment::AnyMany => (0..=parts.len()).any(|skip| {
            let mark = vars.as_ref().map(Vec::len);
            let ok = match_segments(rest, &parts[skip..], vars);
            if !ok {
                if let (Some(v), Some(m)) = (vars.as_mut(), mark) {
                    v.truncate(m);
                }
            }
            ok
        }),
        _ => {
            let Some((part, others)) = parts.split_first() else {
                return false;
            };
            let ok = match first {
                Segment::Literal(l) => l == part,
                Segment::Glob(g) => glob(g.as_bytes(), part.as_bytes()),
                Segment::Var(name) => {
                    if let Some(v) = vars.as_mut() {
                        v.push((name.clone(), (*part).to_owned()));
                    }
                    true
                }
                Segment::AnyMany => unreachable!("handled above"),
            };
            ok && match_segments(rest, others, vars)
        }
    }
}

/// `*` any run, `?` one byte; iterative with single-star backtracking (linear-ish).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, d: &str) -> bool {
        Pattern::parse(p, '/', false).matches(d)
    }

    #[test]
    fn literal_and_single_segment_wildcards() {
        assert!(m("/topic/a", "/topic/a"));
        assert!(!m("/topic/a", "/topic/a/b"));
        assert!(m("/topic/*", "/topic/a"));
        assert!(!m("/topic/*", "/topic/a/b"));
        assert!(m("/topic/chat.*", "/topic/chat.room1"));
        assert!(!m("/topic/chat.*", "/topic/news.x"));
        assert!(m("/topic/a?c", "/topic/abc"));
        assert!(Pattern::parse("/topic/a", '/', false).is_literal());
        assert!(!Pattern::parse("/topic/*", '/', false).is_literal());
    }

    #[test]
    fn double_star_spans_any_number_of_segments() {
        assert!(m("/topic/**", "/topic"));
        assert!(m("/topic/**", "/topic/a/b/c"));
        assert!(m("/topic/**/c", "/topic/c"));
        assert!(m("/topic/**/c", "/topic/a/b/c"));
        assert!(!m("/topic/**/c", "/topic/a/b/d"));
        assert!(m("/**/x/**", "/a/x/b"));
    }

    #[test]
    fn dot_separator() {
        let p = Pattern::parse("/topic.stocks.*", '.', false);
        assert!(p.matches("/topic.stocks.ACME"));
        assert!(!p.matches("/topic.stocks.ACME.eu"));
        assert!(Pattern::parse("/topic.**", '.', false).matches("/topic.a.b"));
    }

    #[test]
    fn captures_path_variables() {
        let p = Pattern::parse("/app/chat/{room}/{kind}", '/', true);
        assert_eq!(
            p.captures("/app/chat/lobby/text"),
            Some(vec![
                ("room".to_owned(), "lobby".to_owned()),
                ("kind".to_owned(), "text".to_owned())
            ])
        );
        assert_eq!(p.captures("/app/chat/lobby"), None);
        let p = Pattern::parse("/app/**/{last}", '/', true);
        assert_eq!(
            p.captures("/app/a/b/c"),
            Some(vec![("last".to_owned(), "c".to_owned())])
        );
    }
}

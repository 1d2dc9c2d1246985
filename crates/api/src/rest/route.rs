//! Matching REST paths against the `google.api.http` templates of the method table.
//! Literal segments win over variables (`/users/_search` before `/users/{id}`).

use crate::methods::{Binding, Method, Methods};
use std::sync::Arc;

/// A parsed template segment.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    /// A variable bound to a (possibly dotted) field path.
    Var(String),
}

/// One route: a template bound to a method.
#[derive(Debug, Clone)]
pub struct Route {
    segs: Vec<Seg>,
    pub binding: Binding,
    pub method: Arc<Method>,
}

/// All REST routes.
pub struct Routes {
    routes: Vec<Route>,
}

/// Result of matching a request.
pub enum Match<'a> {
    Found(&'a Route, Vec<(String, String)>),
    /// The path exists, but not for this HTTP method.
    WrongVerb,
    NotFound,
}

fn parse(template: &str) -> Vec<Seg> {
    template
        .trim_start_matches('/')
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(v) => Seg::Var(v.split('=').next().unwrap_or(v).to_string()),
                None => Seg::Lit(s.to_string()),
            },
        )
        .collect()
}

/// Decodes `%XX` escapes of a path segment.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Routes {
    /// Builds the routes of every method in the table.
    pub fn new(methods: &Methods) -> Routes {
        let mut routes: Vec<Route> = methods
            .all
            .iter()
            .flat_map(|m| {
                m.bindings.iter().map(move |b| Route {
                    segs: parse(&b.template),
                    binding: b.clone(),
                    method: m.clone(),
                })
            })
            .collect();
        // Most literal segments first, so that literals win.
        routes.sort_by_key(|r| {
            std::cmp::Reverse(r.segs.iter().filter(|s| matches!(s, Seg::Lit(_))).count())
        });
        Routes { routes }
    }

    /// Finds the route for `verb` and `path`.
    pub fn find(&self, verb: &http::Method, path: &str) -> Match<'_> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut wrong_verb = false;
        for r in &self.routes {
            if r.segs.len() != parts.len() {
                continue;
            }
            let mut vars = Vec::new();
            let ok = r.segs.iter().zip(&parts).all(|(s, p)| match s {
                Seg::Lit(l) => l == p,
                Seg::Var(v) => match percent_decode(p) {
                    Some(val) if !val.is_empty() => {
                        vars.push((v.clone(), val));
                        true
                    }
                    _ => false,
                },
            });
            if !ok {
                continue;
            }
            if r.binding.verb == verb {
                return Match::Found(r, vars);
            }
            wrong_verb = true;
        }
        if wrong_verb {
            Match::WrongVerb
        } else {
            Match::NotFound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_win_and_verbs_matter() {
        let r = Routes::new(Methods::get());
        match r.find(&http::Method::POST, "/management/v1/users/_search") {
            Match::Found(route, vars) => {
                assert_eq!(route.method.name, "ListUsers");
                assert!(vars.is_empty());
            }
            _ => panic!("no match"),
        }
        match r.find(&http::Method::GET, "/management/v1/users/123") {
            Match::Found(route, vars) => {
                assert_eq!(route.method.name, "GetUserByID");
                assert_eq!(vars, vec![("id".to_string(), "123".to_string())]);
            }
            _ => panic!("no match"),
        }
        assert!(matches!(
            r.find(&http::Method::PATCH, "/management/v1/users/123"),
            Match::WrongVerb
        ));
        assert!(matches!(
            r.find(&http::Method::GET, "/management/v1/nothing/here/at/all"),
            Match::NotFound
        ));
    }
}

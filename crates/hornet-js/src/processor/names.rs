//! The property names of the objects hooks get (`requestParams`, the response, its
//! `timings.phases`), made into engine atoms once per runtime: a property set or read through a
//! cached atom skips hashing the name and looking it up in the atom table on every call.

use rquickjs::{Atom, Ctx, Persistent};

/// One cached atom.
pub(crate) struct Name(Persistent<Atom<'static>>);

impl Name {
    fn new(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<Name> {
        Ok(Name(Persistent::save(ctx, Atom::from_str(ctx.clone(), name)?)))
    }

    /// The atom, for `Object::get`/`set` in `ctx`.
    pub(crate) fn atom<'js>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<Atom<'js>> {
        self.0.clone().restore(ctx)
    }
}

/// The `timings.phases` entries hornet reports, in the order [`Names::phase`] knows them.
const PHASES: [&str; 7] = ["wait", "dns", "tcp", "tls", "firstByte", "download", "total"];

/// The atoms of every fixed property name the hook objects use.
pub(crate) struct Names {
    pub url: Name,
    pub uri: Name,
    pub method: Name,
    pub headers: Name,
    pub json: Name,
    pub body: Name,
    pub name: Name,
    pub status_code: Name,
    pub timings: Name,
    pub phases: Name,
    phase_names: Vec<Name>,
}

impl Names {
    pub(crate) fn new(ctx: &Ctx<'_>) -> rquickjs::Result<Names> {
        Ok(Names {
            url: Name::new(ctx, "url")?,
            uri: Name::new(ctx, "uri")?,
            method: Name::new(ctx, "method")?,
            headers: Name::new(ctx, "headers")?,
            json: Name::new(ctx, "json")?,
            body: Name::new(ctx, "body")?,
            name: Name::new(ctx, "name")?,
            status_code: Name::new(ctx, "statusCode")?,
            timings: Name::new(ctx, "timings")?,
            phases: Name::new(ctx, "phases")?,
            phase_names: PHASES.iter().map(|p| Name::new(ctx, p)).collect::<rquickjs::Result<_>>()?,
        })
    }

    /// The atom of a `timings.phases` entry (made on the spot for a name hornet does not report).
    pub(crate) fn phase<'js>(&self, ctx: &Ctx<'js>, phase: &str) -> rquickjs::Result<Atom<'js>> {
        match PHASES.iter().position(|p| *p == phase) {
            Some(i) => self.phase_names[i].atom(ctx),
            None => Atom::from_str(ctx.clone(), phase),
        }
    }

    /// Whether `atom` is one of the `requestParams` fields read back one by one.
    pub(crate) fn is_request_field<'js>(&self, ctx: &Ctx<'js>, atom: &Atom<'js>) -> rquickjs::Result<bool> {
        for name in [&self.url, &self.uri, &self.method, &self.headers, &self.json, &self.body, &self.name] {
            if name.atom(ctx)? == *atom {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

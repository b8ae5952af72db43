//! The property names of the objects hooks get (`requestParams`, the response), made into engine atoms once per runtime: a property set or read through a
//! cached atom skips hashing the name and looking it up in the atom table on every call. Also the
//! prelude's accessors that make a response's `headers` and `timings` when first used.

use rquickjs::{Atom, Ctx, Function, Persistent, Value, qjs};

/// One cached atom.
pub(crate) struct Name {
    atom: Persistent<Atom<'static>>,
    /// The engine's number for it, valid while `atom` holds it (atoms are interned).
    raw: qjs::JSAtom,
}

impl Name {
    fn new(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<Name> {
        let atom = Atom::from_str(ctx.clone(), name)?;
        // SAFETY: `ctx` is a live context; the atom made here is the one `atom` holds (the same
        // text is the same atom), so dropping this reference leaves it alive.
        let raw = unsafe {
            let raw = qjs::JS_NewAtomLen(ctx.as_raw().as_ptr(), name.as_ptr().cast(), name.len() as _);
            qjs::JS_FreeAtom(ctx.as_raw().as_ptr(), raw);
            raw
        };
        Ok(Name { atom: Persistent::save(ctx, atom), raw })
    }

    /// The atom, for `Object::get`/`set` in `ctx`.
    pub(crate) fn atom<'js>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<Atom<'js>> {
        self.atom.clone().restore(ctx)
    }

    /// The engine's number for the atom (for calls rquickjs does not wrap).
    pub(crate) fn raw(&self) -> qjs::JSAtom {
        self.raw
    }
}

/// The prelude's lazy `response` parts: the symbol its raw text is kept under, and the getter and
/// setter of `headers` and of `timings`.
pub(crate) struct ResponseParts {
    pub raw: Persistent<Atom<'static>>,
    pub headers: [Persistent<Function<'static>>; 2],
    pub timings: [Persistent<Function<'static>>; 2],
}

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
    pub response_parts: ResponseParts,
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
            response_parts: {
                let parts: rquickjs::Array = ctx.globals().get("__hornet_response_parts")?;
                let function = |i: usize| -> rquickjs::Result<Persistent<Function<'static>>> {
                    Ok(Persistent::save(ctx, parts.get::<Function>(i)?))
                };
                let symbol: Value = parts.get(0)?;
                ResponseParts {
                    raw: Persistent::save(ctx, Atom::from_value(ctx.clone(), &symbol)?),
                    headers: [function(1)?, function(2)?],
                    timings: [function(3)?, function(4)?],
                }
            },
        })
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

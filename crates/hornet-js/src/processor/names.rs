//! The property names of the objects hooks get (`requestParams`, the response, the header names
//! requests carry), made into engine atoms once per runtime: a property set or read through a
//! cached atom skips hashing the name and looking it up in the atom table on every call, and a
//! header name read back is the cached text, not converted again. Also the prelude's accessors
//! that make a response's `headers` and `timings` when first used, and the record of which
//! sequences of property names have their shapes kept alive ([`KeptShapes`]).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use rquickjs::{Atom, Ctx, Function, Persistent, Value, qjs};

use super::vars::NameHasher;

/// Header names kept at most (a script uses a handful; names made up per request are not kept).
const MAX_HEADER_NAMES: usize = 128;

/// One cached atom.
pub(crate) struct Name {
    atom: Persistent<Atom<'static>>,
    /// The engine's number for it, valid while `atom` holds it (atoms are interned).
    raw: qjs::JSAtom,
}

impl Name {
    pub(crate) fn new(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<Name> {
        let atom = Atom::from_str(ctx.clone(), name)?;
        Ok(Name::of(ctx, &atom))
    }

    /// A cached atom for `atom`.
    fn of<'js>(ctx: &Ctx<'js>, atom: &Atom<'js>) -> Name {
        Name { atom: Persistent::save(ctx, atom.clone()), raw: raw_atom(atom) }
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

/// Sequences of property names whose shapes are kept at most (a script has a few: one per
/// request's headers and fields; names made up per request are not kept).
const MAX_KEPT_SHAPES: usize = 64;

/// A running key for a sequence of property names, to tell sequences whose shapes are kept.
#[derive(Clone, Copy)]
pub(crate) struct ShapeKey(u64);

impl ShapeKey {
    pub(crate) fn new() -> ShapeKey {
        ShapeKey(0x9e37_79b9_7f4a_7c15)
    }

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    /// Adds a name by its atom.
    pub(crate) fn atom(&mut self, raw: qjs::JSAtom) {
        self.mix(u64::from(raw));
    }

    /// Adds a name by its text (for names that have no cached atom).
    pub(crate) fn text(&mut self, name: &str) {
        let mut hasher = NameHasher::default();
        hasher.write(name.as_bytes());
        self.mix(hasher.finish() | 1 << 63);
    }
}

/// The shapes of the objects hooks get, kept alive across calls (see `keepShapes` in the
/// prelude): QuickJS frees an object's shapes with the last object that has them and makes them
/// again, property by property, for the next one, at several times the cost of finding them.
pub(crate) struct KeptShapes {
    keep: Persistent<Function<'static>>,
    kept: RefCell<HashSet<u64, BuildHasherDefault<NameHasher>>>,
}

impl KeptShapes {
    /// Keeps the shapes of an object of Object.prototype given the plain properties `names`, in
    /// order, once per `key` (the sequence's [`ShapeKey`]), up to a limit.
    pub(crate) fn keep<'js, S: AsRef<str>>(
        &self,
        ctx: &Ctx<'js>,
        key: ShapeKey,
        names: impl FnOnce() -> Vec<S>,
    ) -> rquickjs::Result<()> {
        let mut kept = self.kept.borrow_mut();
        if kept.len() >= MAX_KEPT_SHAPES || kept.contains(&key.0) {
            return Ok(());
        }
        kept.insert(key.0);
        let list = rquickjs::Array::new(ctx.clone())?;
        for (i, name) in names().iter().enumerate() {
            list.set(i, name.as_ref())?;
        }
        self.keep.clone().restore(ctx)?.call((list,))
    }
}

/// The prelude's lazy `response` parts: the symbol its raw text is kept under, and the getter and
/// setter of `headers` and of `timings`.
pub(crate) struct ResponseParts {
    pub raw: Name,
    /// The getter and setter of `headers`, then of `timings` (held by `_functions_held`), as the
    /// engine's values, to define the accessors with.
    pub headers: [qjs::JSValue; 2],
    pub timings: [qjs::JSValue; 2],
    _functions_held: [Persistent<Function<'static>>; 4],
}

/// The atoms of every fixed property name the hook objects use.
pub(crate) struct Names {
    pub url: Name,
    pub uri: Name,
    pub method: Name,
    pub headers: Name,
    pub json: Name,
    pub to_json: Name,
    pub body: Name,
    pub name: Name,
    pub status_code: Name,
    pub timings: Name,
    pub vars: Name,
    pub response_parts: ResponseParts,
    pub shapes: KeptShapes,
    /// Header names by text, and their text by atom.
    header_atoms: RefCell<HashMap<String, Name, BuildHasherDefault<NameHasher>>>,
    header_names: RefCell<HashMap<qjs::JSAtom, String, BuildHasherDefault<NameHasher>>>,
}

/// The engine's number for `atom` (rquickjs hashes an atom as its number and offers no getter).
pub(crate) fn raw_atom(atom: &Atom<'_>) -> qjs::JSAtom {
    struct Capture(qjs::JSAtom);
    impl Hasher for Capture {
        fn write(&mut self, _: &[u8]) {}
        fn write_u32(&mut self, n: u32) {
            self.0 = n;
        }
        fn finish(&self) -> u64 {
            u64::from(self.0)
        }
    }
    let mut capture = Capture(0);
    atom.hash(&mut capture);
    capture.0
}

impl Names {
    pub(crate) fn new(ctx: &Ctx<'_>) -> rquickjs::Result<Names> {
        Ok(Names {
            url: Name::new(ctx, "url")?,
            uri: Name::new(ctx, "uri")?,
            method: Name::new(ctx, "method")?,
            headers: Name::new(ctx, "headers")?,
            json: Name::new(ctx, "json")?,
            to_json: Name::new(ctx, "toJSON")?,
            body: Name::new(ctx, "body")?,
            name: Name::new(ctx, "name")?,
            status_code: Name::new(ctx, "statusCode")?,
            timings: Name::new(ctx, "timings")?,
            vars: Name::new(ctx, "vars")?,
            response_parts: {
                let parts: rquickjs::Array = ctx.globals().get("__hornet_response_parts")?;
                let function = |i: usize| -> rquickjs::Result<(Persistent<Function<'static>>, qjs::JSValue)> {
                    let function = parts.get::<Function>(i)?;
                    let raw = function.as_raw();
                    Ok((Persistent::save(ctx, function), raw))
                };
                let symbol: Value = parts.get(0)?;
                let [(get_headers, get_headers_raw), (set_headers, set_headers_raw)] =
                    [function(1)?, function(2)?];
                let [(get_timings, get_timings_raw), (set_timings, set_timings_raw)] =
                    [function(3)?, function(4)?];
                ResponseParts {
                    raw: Name::of(ctx, &Atom::from_value(ctx.clone(), &symbol)?),
                    headers: [get_headers_raw, set_headers_raw],
                    timings: [get_timings_raw, set_timings_raw],
                    _functions_held: [get_headers, set_headers, get_timings, set_timings],
                }
            },
            shapes: KeptShapes {
                keep: Persistent::save(ctx, ctx.globals().get::<_, Function>("__hornet_keep_shapes")?),
                kept: RefCell::default(),
            },
            header_atoms: RefCell::default(),
            header_names: RefCell::default(),
        })
    }

    /// The atom of header name `name`, cached (up to a limit).
    pub(crate) fn header_atom<'js>(&self, ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Atom<'js>> {
        if let Some(cached) = self.header_atoms.borrow().get(name) {
            return cached.atom(ctx);
        }
        let atom = Atom::from_str(ctx.clone(), name)?;
        let mut atoms = self.header_atoms.borrow_mut();
        if atoms.len() < MAX_HEADER_NAMES {
            let cached = Name::of(ctx, &atom);
            self.header_names.borrow_mut().insert(cached.raw, name.to_string());
            atoms.insert(name.to_string(), cached);
        }
        Ok(atom)
    }

    /// The engine's number for header name `name` while the cache holds it (so that the number
    /// stays that name's), else `None`.
    pub(crate) fn kept_header_atom(&self, name: &str) -> Option<qjs::JSAtom> {
        self.header_atoms.borrow().get(name).map(Name::raw)
    }

    /// The text of header name `atom` (the engine's number for it): the cached text when it is a
    /// cached name.
    pub(crate) fn header_name(&self, ctx: &Ctx<'_>, atom: qjs::JSAtom) -> rquickjs::Result<String> {
        if let Some(name) = self.header_names.borrow().get(&atom) {
            return Ok(name.clone());
        }
        atom_text(ctx, atom)
    }

    /// Whether `raw` (an atom's number) is one of the `requestParams` fields read back one by one.
    pub(crate) fn is_request_field(&self, raw: qjs::JSAtom) -> bool {
        [&self.url, &self.uri, &self.method, &self.headers, &self.json, &self.body, &self.name]
            .iter()
            .any(|name| name.raw == raw)
    }
}

/// The text of the atom numbered `atom`.
pub(crate) fn atom_text(ctx: &Ctx<'_>, atom: qjs::JSAtom) -> rquickjs::Result<String> {
    let ctx = ctx.as_raw().as_ptr();
    let mut len: qjs::size_t = 0;
    // SAFETY: the caller holds `atom` alive; the C string is copied and freed at once.
    unsafe {
        let text = qjs::JS_AtomToCStringLen(ctx, &mut len, atom);
        if text.is_null() {
            return Err(rquickjs::Error::Exception);
        }
        let owned =
            String::from_utf8_lossy(std::slice::from_raw_parts(text.cast::<u8>(), len as usize)).into_owned();
        qjs::JS_FreeCString(ctx, text);
        Ok(owned)
    }
}

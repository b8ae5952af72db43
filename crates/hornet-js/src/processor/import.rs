//! ES module `import`: resolving specifiers and loading files and built-ins, CommonJS
//! re-exported.

use std::path::Path;
use std::rc::Rc;

use rquickjs::loader::{Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Error as JsError, Function, Module, Value};

use super::Shared;
use crate::resolve;
use crate::{LoadError, native};

/// Resolves `import` specifiers: built-ins as `node:<name>`, files as absolute paths.
pub(super) struct ImportResolver {
    pub(super) shared: Rc<Shared>,
}

impl Resolver for ImportResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        match native::resolve_import(base, name, &self.shared.files) {
            Ok(found) => Ok(found.key()),
            Err(why) => {
                *self.shared.last_resolve_error.borrow_mut() = Some(why.clone());
                Err(JsError::new_resolving_message(base, name, why))
            }
        }
    }
}

/// Loads imported modules: ES module files as they are; CommonJS files and built-ins through
/// `require`, re-exported (`default` plus each own key that is an identifier).
pub(super) struct ImportLoader {
    pub(super) shared: Rc<Shared>,
}

impl Loader for ImportLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let path = Path::new(name);
        if !name.starts_with("node:") && resolve::is_es_module(path, &self.shared.files) {
            crate::deps::note(path);
            let source =
                self.shared.files.read_text(path, name).map_err(|e| JsError::new_loading_message(name, e))?;
            if let Some((line, column, why)) = resolve::find_refused(&source) {
                return Err(JsError::new_loading_message(
                    name,
                    LoadError::at(name, line, column, why).to_string(),
                ));
            }
            return Module::declare(ctx.clone(), name, source);
        }
        let load: Function = ctx.globals().get("__hornet_cjs")?;
        let exported: Value = load.call((name,))?;
        let key = serde_json::to_string(name).unwrap_or_default();
        let mut source = format!("const m = globalThis.__hornet_cjs({key});\nexport default m;\n");
        if let Some(object) = exported.as_object() {
            for k in object.keys::<String>().filter_map(|k| k.ok()) {
                let identifier = k.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                    && k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
                if identifier && k != "default" && !RESERVED.contains(&k.as_str()) {
                    source.push_str(&format!("export const {k} = m.{k};\n"));
                }
            }
        }
        Module::declare(ctx.clone(), name, source)
    }
}

/// Words that cannot name an `export const`.
const RESERVED: &[&str] = &[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "null",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "arguments",
    "eval",
];

//! The page and its assets, embedded in the binary; uPlot comes from `hornet_output::assets` (the same
//! vendored file the HTML report inlines).

/// The page (all tabs).
pub const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The page's stylesheet.
pub const APP_CSS: &str = include_str!("../assets/app.css");

/// An asset by name: its content type and body.
pub fn get(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "app.css" => ("text/css; charset=utf-8", APP_CSS),
        "uPlot.iife.min.js" => ("text/javascript; charset=utf-8", hornet_output::assets::UPLOT_JS),
        "uPlot.min.css" => ("text/css; charset=utf-8", hornet_output::assets::UPLOT_CSS),
        "uPlot.LICENSE" => ("text/plain; charset=utf-8", hornet_output::assets::UPLOT_LICENSE),
        _ => return None,
    })
}

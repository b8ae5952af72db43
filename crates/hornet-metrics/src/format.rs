//! The number formatting the metrics crate needs for the text it writes itself (the generator's
//! warnings). It lives here, below every output, so that there is one of it: `hornet-output`'s
//! `format` module re-exports it beside its other formatters.

/// Milliseconds with a precision that suits the magnitude: `0.35`, `9.87`, `123.4`, `2048`; `-`
/// for a value that is not finite.
pub fn ms(v: f64) -> String {
    if !v.is_finite() {
        "-".to_owned()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

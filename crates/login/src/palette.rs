//! The login pages' colours: the label policy's light and dark palettes, and the rule that
//! branding may not make a page unreadable (text keeps WCAG's 4.5:1 contrast against its
//! background, falling back to the palette's font colour, or black or white).

/// One palette of the label policy, each colour `#rgb` or `#rrggbb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    pub primary: String,
    pub background: String,
    pub warn: String,
    pub font: String,
}

impl Palette {
    /// ZITADEL's default light palette.
    pub fn light_default() -> Palette {
        Palette::of("#5469d4", "#fafafa", "#cd3d56", "#000000")
    }

    /// ZITADEL's default dark palette.
    pub fn dark_default() -> Palette {
        Palette::of("#2073c4", "#111827", "#ff3b5b", "#ffffff")
    }

    pub fn of(primary: &str, background: &str, warn: &str, font: &str) -> Palette {
        Palette {
            primary: primary.into(),
            background: background.into(),
            warn: warn.into(),
            font: font.into(),
        }
    }

    /// This palette with every colour that is not `#rgb`/`#rrggbb` taken from `fallback`.
    pub fn or(self, fallback: &Palette) -> Palette {
        let pick = |c: String, f: &String| if rgb(&c).is_some() { c } else { f.clone() };
        Palette {
            primary: pick(self.primary, &fallback.primary),
            background: pick(self.background, &fallback.background),
            warn: pick(self.warn, &fallback.warn),
            font: pick(self.font, &fallback.font),
        }
    }

    /// The CSS custom properties of this palette, with every text colour readable on the
    /// background it is drawn on.
    pub fn css_vars(&self) -> String {
        let font = readable(&self.font, &self.background, None);
        let on_primary = readable("#ffffff", &self.primary, None);
        format!(
            "--bg:{bg};--fg:{font};--primary:{primary};--on-primary:{on_primary};--link:{link};--warn:{warn}",
            bg = self.background,
            primary = self.primary,
            link = readable(&self.primary, &self.background, Some(&font)),
            warn = readable(&self.warn, &self.background, Some(&font)),
        )
    }
}

/// `fg` when it has 4.5:1 contrast on `bg`; else `fallback` when that has; else black or
/// white, whichever contrasts more.
fn readable(fg: &str, bg: &str, fallback: Option<&str>) -> String {
    let Some(b) = rgb(bg) else {
        return fg.to_string();
    };
    for c in std::iter::once(fg).chain(fallback) {
        if rgb(c).is_some_and(|f| contrast(f, b) >= 4.5) {
            return c.to_string();
        }
    }
    if contrast([0, 0, 0], b) >= contrast([255, 255, 255], b) {
        "#000000".into()
    } else {
        "#ffffff".into()
    }
}

/// The red, green and blue of `#rgb` or `#rrggbb`.
fn rgb(c: &str) -> Option<[u8; 3]> {
    let hex = c.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let digit = |i: usize, n: usize| u8::from_str_radix(&hex[i..i + n], 16).ok();
    match hex.len() {
        3 => Some([digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17]),
        6 => Some([digit(0, 2)?, digit(2, 2)?, digit(4, 2)?]),
        _ => None,
    }
}

/// WCAG 2's contrast ratio of two colours (1 to 21).
fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// WCAG 2's relative luminance.
fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.040_45 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_follows_wcag() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        assert_eq!(rgb("#fff"), Some([255, 255, 255]));
        assert_eq!(rgb("#2073c4"), Some([0x20, 0x73, 0xc4]));
        assert_eq!(rgb("2073c4"), None);
        assert_eq!(rgb("#12345"), None);
        // #767676 is the lightest grey with 4.5:1 on white, #777777 just misses it.
        assert!(contrast(rgb("#767676").expect("grey"), [255; 3]) >= 4.5);
        assert!(contrast(rgb("#777777").expect("grey"), [255; 3]) < 4.5);
    }

    #[test]
    fn unreadable_branding_falls_back() {
        // ZITADEL's dark primary is too dim for links on its dark background: they take the
        // font colour; the light defaults are readable as they are.
        let dark = Palette::dark_default().css_vars();
        assert!(dark.contains("--link:#ffffff"), "{dark}");
        assert!(dark.contains("--warn:#ff3b5b"), "{dark}");
        let light = Palette::light_default().css_vars();
        assert!(light.contains("--link:#5469d4"), "{light}");
        assert!(light.contains("--on-primary:#ffffff"), "{light}");
        // A pale primary gets black text on its buttons.
        let pale = Palette::of("#ffe066", "#ffffff", "#cd3d56", "#000000").css_vars();
        assert!(pale.contains("--on-primary:#000000"), "{pale}");
        // A font colour lost on its background is replaced.
        let lost = Palette::of("#5469d4", "#111827", "#ff3b5b", "#222222").css_vars();
        assert!(lost.contains("--fg:#ffffff"), "{lost}");
    }

    #[test]
    fn invalid_colours_take_the_default() {
        let p = Palette::of("red", "", "#abc", "#0000000").or(&Palette::light_default());
        assert_eq!(p.primary, "#5469d4");
        assert_eq!(p.background, "#fafafa");
        assert_eq!(p.warn, "#abc");
        assert_eq!(p.font, "#000000");
    }
}

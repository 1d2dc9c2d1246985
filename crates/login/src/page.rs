//! The page frame: HTML5, mobile viewport, branded with the label policy in force (light and
//! dark colours by its theme mode, logo, font), no JavaScript.

use crate::palette::Palette;
use castellan_api::app::label;
use castellan_api::state::St;
use castellan_domain::assets::LabelSlot;
use castellan_oidc::authorize::escape;

/// Which palettes a page uses (the label policy's theme mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Theme {
    /// The dark palette when the browser prefers a dark scheme, else the light one.
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    /// ZITADEL's `ThemeMode` number (0 unspecified and 1 auto, 2 dark, 3 light).
    fn from_mode(mode: i32) -> Theme {
        match mode {
            2 => Theme::Dark,
            3 => Theme::Light,
            _ => Theme::Auto,
        }
    }
}

/// What a page shows of the label policy.
#[derive(Debug, Clone)]
pub struct Brand {
    pub light: Palette,
    pub dark: Palette,
    pub theme: Theme,
    pub logo_url: String,
    pub logo_dark_url: String,
    pub icon_url: String,
    pub icon_dark_url: String,
    pub font_url: String,
    /// The login name field shows no domain after it (`hideLoginNameSuffix`).
    pub hide_login_name_suffix: bool,
}

impl Default for Brand {
    fn default() -> Self {
        Brand {
            light: Palette::light_default(),
            dark: Palette::dark_default(),
            theme: Theme::Auto,
            logo_url: String::new(),
            logo_dark_url: String::new(),
            icon_url: String::new(),
            icon_dark_url: String::new(),
            font_url: String::new(),
            hide_login_name_suffix: false,
        }
    }
}

/// The active label policy of `org` ('' = the instance's) as a `Brand`.
pub async fn brand(st: &St, instance: &str, org: &str, host: &str) -> Brand {
    let (inst, o) = (instance.to_string(), org.to_string());
    let key = format!("label\0{instance}\0{org}");
    let view = st
        .read_cache
        .get(st, key, move |c| label::view(c, &inst, &o, false))
        .await;
    let Ok(view) = view else {
        return Brand::default();
    };
    let prefix = castellan_api::assets::url_prefix(st, host);
    let s = &view.policy.settings;
    let url = |slot| {
        view.file(slot)
            .map(|k| castellan_api::assets::url_in(&prefix, &view.owner, k))
            .unwrap_or_default()
    };
    Brand {
        light: Palette::of(
            &s.primary_color,
            &s.background_color,
            &s.warn_color,
            &s.font_color,
        )
        .or(&Palette::light_default()),
        dark: Palette::of(
            &s.primary_color_dark,
            &s.background_color_dark,
            &s.warn_color_dark,
            &s.font_color_dark,
        )
        .or(&Palette::dark_default()),
        theme: Theme::from_mode(s.theme_mode),
        logo_url: url(LabelSlot::Logo),
        logo_dark_url: url(LabelSlot::LogoDark),
        icon_url: url(LabelSlot::Icon),
        icon_dark_url: url(LabelSlot::IconDark),
        font_url: url(LabelSlot::Font),
        hide_login_name_suffix: s.hide_login_name_suffix,
    }
}

/// The palettes of `brand` as CSS custom properties on `:root`, with `color-scheme` so that
/// the browser draws form controls to match.
fn theme_css(brand: &Brand) -> String {
    let root =
        |p: &Palette, scheme: &str| format!(":root{{{};color-scheme:{scheme}}}", p.css_vars());
    match brand.theme {
        Theme::Light => root(&brand.light, "light"),
        Theme::Dark => root(&brand.dark, "dark"),
        Theme::Auto => format!(
            "{}@media (prefers-color-scheme:dark){{{}}}",
            root(&brand.light, "light dark"),
            root(&brand.dark, "dark")
        ),
    }
}

/// The light and dark variant of an image that the page's theme shows: `(always, under a
/// dark scheme)`. Under `Auto` the dark one is only for a dark scheme; a missing variant is
/// replaced by the other.
fn variants<'a>(theme: Theme, light: &'a str, dark: &'a str) -> (&'a str, &'a str) {
    let or = |a: &'a str, b: &'a str| if a.is_empty() { b } else { a };
    match theme {
        Theme::Light => (or(light, dark), ""),
        Theme::Dark => (or(dark, light), ""),
        Theme::Auto if light.is_empty() || dark.is_empty() => (or(light, dark), ""),
        Theme::Auto => (light, dark),
    }
}

/// The logo: under `Auto` with both variants, the browser picks by its scheme.
fn logo(brand: &Brand) -> String {
    let img = |src: &str| format!("<img class=\"logo\" src=\"{}\" alt=\"\">", escape(src));
    match variants(brand.theme, &brand.logo_url, &brand.logo_dark_url) {
        ("", _) => String::new(),
        (light, "") => img(light),
        (light, dark) => format!(
            "<picture><source srcset=\"{}\" media=\"(prefers-color-scheme: dark)\">{}</picture>",
            escape(dark),
            img(light)
        ),
    }
}

/// The favicon (the label policy's icon), the dark one under a dark scheme.
fn icon(brand: &Brand) -> String {
    let link =
        |href: &str, media: &str| format!("<link rel=\"icon\" href=\"{}\"{media}>", escape(href));
    match variants(brand.theme, &brand.icon_url, &brand.icon_dark_url) {
        ("", _) => String::new(),
        (light, "") => link(light, ""),
        (light, dark) => format!(
            "{}{}",
            link(light, " media=\"(prefers-color-scheme: light)\""),
            link(dark, " media=\"(prefers-color-scheme: dark)\"")
        ),
    }
}

/// A whole page: `title` as heading, `body` (already escaped HTML) below it.
pub fn render(
    brand: &Brand,
    lang: &str,
    title: &str,
    description: &str,
    error: &str,
    body: &str,
) -> String {
    let font_face = if brand.font_url.is_empty() {
        String::new()
    } else {
        format!(
            "@font-face{{font-family:brand;src:url(\"{}\")}}",
            escape(&brand.font_url)
        )
    };
    let error = if error.is_empty() {
        String::new()
    } else {
        format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error))
    };
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\"><title>{t}</title>{icon}<style>{font_face}{theme}\
         body{{margin:0;background:var(--bg);color:var(--fg);font-family:brand,system-ui,sans-serif}}\
         main{{max-width:26rem;margin:2rem auto;padding:1.5rem}}\
         .logo{{max-height:4rem;display:block;margin:0 auto 1rem}}\
         h1{{font-size:1.5rem}}label{{display:block;margin:.8rem 0 .3rem}}\
         input{{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}}\
         .suffixed{{display:flex;align-items:center;gap:.4rem}}.suffixed input{{flex:1;min-width:0}}\
         button{{margin-top:1rem;width:100%;padding:.7rem;font-size:1rem;background:var(--primary);color:var(--on-primary);border:0;border-radius:4px;cursor:pointer}}\
         button.account{{background:transparent;color:var(--fg);border:1px solid var(--primary);text-align:left}}\
         .error{{color:var(--warn);font-weight:bold}}a{{color:var(--link)}}\
         </style></head><body><main>{logo}<h1>{t}</h1><p>{d}</p>{error}{body}</main></body></html>",
        lang = escape(lang),
        t = escape(title),
        d = escape(description),
        theme = theme_css(brand),
        logo = logo(brand),
        icon = icon(brand),
    )
}

/// A labelled text input (focused) with `suffix` shown after it and read with it.
pub fn input_with_suffix(
    id: &str,
    label: &str,
    value: &str,
    autocomplete: &str,
    suffix: &str,
) -> String {
    let described = format!(" aria-describedby=\"{}-suffix\"", escape(id));
    format!(
        "{}<div class=\"suffixed\">{}<span id=\"{}-suffix\">{}</span></div>",
        label_for(id, label),
        control(id, "text", value, autocomplete, true, &described),
        escape(id),
        escape(suffix),
    )
}

/// A hidden form field.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

/// A labelled input.
pub fn input(
    id: &str,
    label: &str,
    kind: &str,
    value: &str,
    autocomplete: &str,
    autofocus: bool,
) -> String {
    label_for(id, label) + &control(id, kind, value, autocomplete, autofocus, "")
}

fn label_for(id: &str, label: &str) -> String {
    format!("<label for=\"{}\">{}</label>", escape(id), escape(label))
}

/// An `<input>` named and identified `id`; `attrs` (already escaped) are added to it.
fn control(
    id: &str,
    kind: &str,
    value: &str,
    autocomplete: &str,
    autofocus: bool,
    attrs: &str,
) -> String {
    format!(
        "<input id=\"{id}\" name=\"{id}\" type=\"{kind}\" value=\"{v}\" autocomplete=\"{autocomplete}\"{attrs}{af}>",
        id = escape(id),
        v = escape(value),
        af = if autofocus { " autofocus" } else { "" },
    )
}

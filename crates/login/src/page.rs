//! The page frame: HTML5, mobile viewport, branded with the label policy in force (colours,
//! logo, font), no JavaScript.

use castellan_api::app::label;
use castellan_api::state::St;
use castellan_domain::assets::LabelSlot;
use castellan_oidc::authorize::escape;

/// What a page shows of the label policy.
#[derive(Debug, Clone, Default)]
pub struct Brand {
    pub primary: String,
    pub background: String,
    pub warn: String,
    pub font_color: String,
    pub logo_url: String,
    pub font_url: String,
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
        primary: s.primary_color.clone(),
        background: s.background_color.clone(),
        warn: s.warn_color.clone(),
        font_color: s.font_color.clone(),
        logo_url: url(LabelSlot::Logo),
        font_url: url(LabelSlot::Font),
    }
}

/// A colour from the policy, or `fallback` when it is not `#rrggbb`-like.
fn colour<'a>(c: &'a str, fallback: &'a str) -> &'a str {
    let ok = c.len() <= 9
        && c.starts_with('#')
        && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
        && c.len() > 1;
    if ok {
        c
    } else {
        fallback
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
    let logo = if brand.logo_url.is_empty() {
        String::new()
    } else {
        format!(
            "<img class=\"logo\" src=\"{}\" alt=\"\">",
            escape(&brand.logo_url)
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
         <meta name=\"referrer\" content=\"no-referrer\"><title>{t}</title><style>{font_face}\
         body{{margin:0;background:{bg};color:{fg};font-family:brand,system-ui,sans-serif}}\
         main{{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff0;}}\
         .logo{{max-height:4rem;display:block;margin:0 auto 1rem}}\
         h1{{font-size:1.5rem}}label{{display:block;margin:.8rem 0 .3rem}}\
         input{{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}}\
         button{{margin-top:1rem;width:100%;padding:.7rem;font-size:1rem;background:{primary};color:#fff;border:0;border-radius:4px;cursor:pointer}}\
         button.account{{background:transparent;color:{fg};border:1px solid {primary};text-align:left}}\
         .error{{color:{warn};font-weight:bold}}a{{color:{primary}}}\
         </style></head><body><main>{logo}<h1>{t}</h1><p>{d}</p>{error}{body}</main></body></html>",
        lang = escape(lang),
        t = escape(title),
        d = escape(description),
        bg = colour(&brand.background, "#fafafa"),
        fg = colour(&brand.font_color, "#000000"),
        primary = colour(&brand.primary, "#5469d4"),
        warn = colour(&brand.warn, "#cd3d56"),
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
    format!(
        "<label for=\"{id}\">{l}</label><input id=\"{id}\" name=\"{id}\" type=\"{kind}\" value=\"{v}\" autocomplete=\"{autocomplete}\"{af}>",
        id = escape(id),
        l = escape(label),
        v = escape(value),
        af = if autofocus { " autofocus" } else { "" },
    )
}

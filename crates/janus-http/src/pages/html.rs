//! Hand-written HTML for the hosted pages: escaping, the page frame (pool and client names,
//! optional branding inlined: CSS and a logo as a data URL — no external assets, no
//! JavaScript), and form fields with labels, autocomplete hints and error descriptions.

use std::fmt::Write;

/// Escape text for HTML content and double-quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const BASE_CSS: &str = "\
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
background:#f2f4f7;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2433}\
main{background:#fff;width:100%;max-width:400px;margin:24px;padding:32px;border-radius:12px;\
box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06)}\
.logo{display:block;max-width:160px;max-height:64px;margin:0 auto 16px}\
.pool{margin:0;color:#5b6475;font-size:.875rem;letter-spacing:.02em}\
h1{margin:4px 0 4px;font-size:1.5rem}.client{margin:0 0 20px;color:#5b6475}\
label{display:block;margin:16px 0 4px;font-weight:600}\
input[type=text],input[type=password],input[type=email]{width:100%;padding:10px 12px;border:1px solid #9aa3b2;\
border-radius:8px;font:inherit}input:focus,button:focus,a:focus{outline:3px solid #2563eb;outline-offset:2px}\
input[aria-invalid=true]{border-color:#b42318}\
button{width:100%;margin-top:24px;padding:11px;border:0;border-radius:8px;background:#1d4ed8;color:#fff;\
font:inherit;font-weight:600;cursor:pointer}button:hover{background:#1e40af}\
.error{margin:12px 0;padding:10px 12px;border-radius:8px;background:#fef3f2;color:#b42318;border:1px solid #fecdca}\
.info{margin:12px 0;padding:10px 12px;border-radius:8px;background:#eff6ff;border:1px solid #bfdbfe}\
.hint{margin:4px 0 0;color:#5b6475;font-size:.875rem}.links{margin-top:20px;font-size:.9375rem}\
.links a{color:#1d4ed8}fieldset{border:0;padding:0;margin:16px 0 0}legend{font-weight:600}\
.choice{display:flex;gap:8px;align-items:center;margin:8px 0}";

/// Branding to inline.
#[derive(Default, Clone)]
pub struct Brand {
    /// Extra CSS (from SetUICustomization).
    pub css: Option<String>,
    /// Logo, base64.
    pub image: Option<String>,
}

/// What every page shows.
pub struct Frame<'a> {
    /// `<title>` and `<h1>`.
    pub title: &'a str,
    /// The pool's name.
    pub pool_name: &'a str,
    /// The app client's name, when known.
    pub client_name: Option<&'a str>,
    /// Branding.
    pub brand: &'a Brand,
    /// An error to announce.
    pub error: Option<&'a str>,
    /// A notice (a code was sent, …).
    pub info: Option<&'a str>,
}

/// A whole page around `body`.
pub fn page(f: &Frame, body: &str) -> String {
    let mut s = String::with_capacity(4096 + body.len());
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} – {}</title><style>{BASE_CSS}{}</style></head><body><main>",
        esc(f.title),
        esc(f.pool_name),
        f.brand.css.as_deref().unwrap_or("")
    );
    if let Some(img) = &f.brand.image {
        let _ =
            write!(s, "<img class=\"logo\" src=\"data:image/png;base64,{}\" alt=\"{}\">", esc(img), esc(f.pool_name));
    }
    let _ = write!(s, "<p class=\"pool\">{}</p><h1>{}</h1>", esc(f.pool_name), esc(f.title));
    if let Some(c) = f.client_name {
        let _ = write!(s, "<p class=\"client\">to continue to <strong>{}</strong></p>", esc(c));
    }
    if let Some(e) = f.error {
        let _ = write!(s, "<div class=\"error\" id=\"form-error\" role=\"alert\">{}</div>", esc(e));
    }
    if let Some(i) = f.info {
        let _ = write!(s, "<div class=\"info\" role=\"status\">{}</div>", esc(i));
    }
    s.push_str(body);
    s.push_str("</main></body></html>");
    s
}

/// A labelled input. The first field of a form gets `autofocus`; with an error on the page,
/// every field points at it (`aria-describedby`) and is marked invalid.
pub struct Field<'a> {
    /// Form name.
    pub name: &'a str,
    /// Visible label.
    pub label: &'a str,
    /// `text`, `password`, `email`.
    pub kind: &'a str,
    /// `autocomplete` token.
    pub autocomplete: &'a str,
    /// Prefilled value (never for passwords).
    pub value: &'a str,
    /// A hint under the field.
    pub hint: Option<&'a str>,
}

/// Render fields.
pub fn fields(list: &[Field], error: bool) -> String {
    let mut s = String::new();
    for (i, f) in list.iter().enumerate() {
        let id = format!("f-{}", f.name.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
        let mut described = Vec::new();
        if error {
            described.push("form-error".to_owned());
        }
        if f.hint.is_some() {
            described.push(format!("{id}-hint"));
        }
        let _ = write!(
            s,
            "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{}\" type=\"{}\" autocomplete=\"{}\" \
             value=\"{}\" required{}{}{}>",
            esc(f.label),
            esc(f.name),
            f.kind,
            f.autocomplete,
            esc(f.value),
            if i == 0 { " autofocus" } else { "" },
            if error { " aria-invalid=\"true\"" } else { "" },
            if described.is_empty() { String::new() } else { format!(" aria-describedby=\"{}\"", described.join(" ")) },
        );
        if let Some(h) = f.hint {
            let _ = write!(s, "<p class=\"hint\" id=\"{id}-hint\">{}</p>", esc(h));
        }
    }
    s
}

/// A hidden input.
pub fn hidden(name: &str, value: &str) -> String {
    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc(name), esc(value))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(super::esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}

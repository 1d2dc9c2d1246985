//! Texts of the login pages by language: English and German. A language is added as one more
//! table here and one more entry of the instance API's `SUPPORTED_LANGUAGES` (which the admin
//! API's default language and discovery's `ui_locales_supported` list).

use castellan_api::app::instance::SUPPORTED_LANGUAGES;
use castellan_api::state::St;
use http::{header, HeaderMap};

/// The first of `tags` (language tags, e.g. `de-CH`, in order of preference) with texts.
fn first_known<'a>(tags: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    tags.into_iter().find_map(|tag| {
        let base = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        SUPPORTED_LANGUAGES.iter().find(|l| **l == base).copied()
    })
}

/// The language tags of an `Accept-Language` value, highest weight first (ties in the order
/// given; `*` and weight 0 left out).
fn accepted(value: &str) -> Vec<&str> {
    let mut tags: Vec<(f32, usize, &str)> = value
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (!tag.is_empty() && tag != "*" && q > 0.0).then_some((q, i, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, t)| t).collect()
}

/// The request's `Accept-Language` value ('' without one).
pub fn accept_language(headers: &HeaderMap) -> &str {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A page's language: the first of the authorization request's `ui_locales` with texts, else
/// of the browser's `Accept-Language` (`accept`), else the instance's default language, else
/// English.
pub async fn pick(st: &St, instance: &str, ui_locales: &str, accept: &str) -> &'static str {
    if let Some(l) =
        first_known(ui_locales.split_ascii_whitespace()).or_else(|| first_known(accepted(accept)))
    {
        return l;
    }
    castellan_api::app::instance::default_language_of(st, instance)
        .await
        .ok()
        .and_then(|d| first_known([d.as_str()]))
        .unwrap_or("en")
}

/// The text `key` in `lang` (English when the language lacks it).
pub fn text(lang: &str, key: &str) -> &'static str {
    let t = match lang {
        "de" => de(key),
        _ => "",
    };
    if t.is_empty() {
        en(key)
    } else {
        t
    }
}

fn en(key: &str) -> &'static str {
    match key {
        "login.title" => "Welcome back!",
        "login.description" => "Enter your login data.",
        "login.name" => "Login name",
        "login.next" => "Next",
        "login.register" => "Register",
        "login.not_allowed" => "Signing in with a user name and password is not allowed for this organisation.",
        "login.user_not_found" => "The user could not be found.",
        "password.title" => "Password",
        "password.description" => "Enter your password.",
        "password.label" => "Password",
        "password.submit" => "Sign in",
        "password.invalid" => "The login name or password is wrong.",
        "password.locked" => "This user is locked. Please contact your administrator.",
        "password.inactive" => "This user is not active.",
        "password.other_user" => "Use another user",
        "change.title" => "Change password",
        "change.description" => "You must change your password before you continue.",
        "change.old" => "Current password",
        "change.new" => "New password",
        "change.confirm" => "Confirm the new password",
        "change.submit" => "Change password",
        "change.mismatch" => "The new passwords do not match.",
        "select.title" => "Select account",
        "select.description" => "Choose the account you want to continue with.",
        "select.other" => "Use another account",
        "register.title" => "Register",
        "register.description" => "Create your account.",
        "register.firstname" => "First name",
        "register.lastname" => "Last name",
        "register.email" => "Email",
        "register.username" => "User name",
        "register.password" => "Password",
        "register.password_confirm" => "Confirm the password",
        "register.submit" => "Create account",
        "register.not_allowed" => "Registration is not allowed for this organisation.",
        "device.title" => "Connect a device",
        "device.description" => "Enter the code shown on your device.",
        "device.code" => "Code",
        "device.unknown" => "This code is unknown or has expired.",
        "error.title" => "Something went wrong",
        "error.request" => "This sign-in request is unknown or has expired. Please start again from the application.",
        "error.csrf" => "The form has expired or was not sent from this browser. Please reload the page and try again.",
        "error.rate" => "Too many attempts. Please wait a minute and try again.",
        "error.busy" => "The service is busy. Please try again.",
        "error.input" => "The form contains characters that cannot be used. Please correct it and try again.",
        "error.method" => "This page cannot be opened this way. Please start again from the application.",
        "error.page" => "This page does not exist. Please start again from the application.",
        "complexity.min_length" => "The password must be at least {n} characters long.",
        "complexity.lower" => "The password must contain a lower case letter.",
        "complexity.upper" => "The password must contain an upper case letter.",
        "complexity.number" => "The password must contain a number.",
        "complexity.symbol" => "The password must contain a symbol.",
        "register.exists" => "This user already exists.",
        "register.email_invalid" => "The email address is not valid.",
        "device.deny" => "Deny",
        "device.denied_title" => "Device not connected",
        "device.denied_text" => "You refused the device's request. You can close this window.",
        _ => "",
    }
}

fn de(key: &str) -> &'static str {
    match key {
        "login.title" => "Willkommen zurück!",
        "login.description" => "Geben Sie Ihre Anmeldedaten ein.",
        "login.name" => "Anmeldename",
        "login.next" => "Weiter",
        "login.register" => "Registrieren",
        "login.not_allowed" => "Die Anmeldung mit Benutzername und Passwort ist für diese Organisation nicht erlaubt.",
        "login.user_not_found" => "Der Benutzer wurde nicht gefunden.",
        "password.title" => "Passwort",
        "password.description" => "Geben Sie Ihr Passwort ein.",
        "password.label" => "Passwort",
        "password.submit" => "Anmelden",
        "password.invalid" => "Der Anmeldename oder das Passwort ist falsch.",
        "password.locked" => "Dieser Benutzer ist gesperrt. Bitte wenden Sie sich an Ihre Administration.",
        "password.inactive" => "Dieser Benutzer ist nicht aktiv.",
        "password.other_user" => "Anderen Benutzer verwenden",
        "change.title" => "Passwort ändern",
        "change.description" => "Sie müssen Ihr Passwort ändern, bevor Sie fortfahren.",
        "change.old" => "Aktuelles Passwort",
        "change.new" => "Neues Passwort",
        "change.confirm" => "Neues Passwort bestätigen",
        "change.submit" => "Passwort ändern",
        "change.mismatch" => "Die neuen Passwörter stimmen nicht überein.",
        "select.title" => "Konto auswählen",
        "select.description" => "Wählen Sie das Konto, mit dem Sie fortfahren möchten.",
        "select.other" => "Anderes Konto verwenden",
        "register.title" => "Registrieren",
        "register.description" => "Erstellen Sie Ihr Konto.",
        "register.firstname" => "Vorname",
        "register.lastname" => "Nachname",
        "register.email" => "E-Mail",
        "register.username" => "Benutzername",
        "register.password" => "Passwort",
        "register.password_confirm" => "Passwort bestätigen",
        "register.submit" => "Konto erstellen",
        "register.not_allowed" => "Die Registrierung ist für diese Organisation nicht erlaubt.",
        "device.title" => "Gerät verbinden",
        "device.description" => "Geben Sie den Code ein, den Ihr Gerät anzeigt.",
        "device.code" => "Code",
        "device.unknown" => "Dieser Code ist unbekannt oder abgelaufen.",
        "complexity.min_length" => "Das Passwort muss mindestens {n} Zeichen lang sein.",
        "complexity.lower" => "Das Passwort muss einen Kleinbuchstaben enthalten.",
        "complexity.upper" => "Das Passwort muss einen Großbuchstaben enthalten.",
        "complexity.number" => "Das Passwort muss eine Ziffer enthalten.",
        "complexity.symbol" => "Das Passwort muss ein Sonderzeichen enthalten.",
        "register.exists" => "Dieser Benutzer existiert bereits.",
        "register.email_invalid" => "Die E-Mail-Adresse ist ungültig.",
        "device.deny" => "Ablehnen",
        "device.denied_title" => "Gerät nicht verbunden",
        "device.denied_text" => "Sie haben die Anfrage des Geräts abgelehnt. Sie können dieses Fenster schließen.",
        "error.title" => "Etwas ist schiefgelaufen",
        "error.request" => "Diese Anmeldeanfrage ist unbekannt oder abgelaufen. Bitte beginnen Sie erneut in der Anwendung.",
        "error.csrf" => "Das Formular ist abgelaufen oder wurde nicht von diesem Browser gesendet. Bitte laden Sie die Seite neu und versuchen Sie es erneut.",
        "error.rate" => "Zu viele Versuche. Bitte warten Sie eine Minute und versuchen Sie es erneut.",
        "error.busy" => "Der Dienst ist ausgelastet. Bitte versuchen Sie es erneut.",
        "error.input" => "Das Formular enthält Zeichen, die nicht verwendet werden können. Bitte korrigieren Sie es und versuchen Sie es erneut.",
        "error.method" => "Diese Seite kann so nicht geöffnet werden. Bitte beginnen Sie erneut in der Anwendung.",
        "error.page" => "Diese Seite existiert nicht. Bitte beginnen Sie erneut in der Anwendung.",
        _ => "",
    }
}

/// The provider's page texts (`castellan_oidc`, written in English) in `lang`, by their
/// English words; `None` for words without a translation (texts with details in them).
pub fn provider_text(lang: &str, english: &str) -> Option<&'static str> {
    if lang != "de" {
        return None;
    }
    Some(match english {
        "Unknown instance" => "Unbekannte Instanz",
        "This address does not belong to any instance." => "Diese Adresse gehört zu keiner Instanz.",
        "The application's request is invalid" => "Die Anfrage der Anwendung ist ungültig",
        "The request has no client_id." => "Die Anfrage enthält keine client_id.",
        "The application (client_id) is unknown or not active." => "Die Anwendung (client_id) ist unbekannt oder nicht aktiv.",
        "The redirect_uri is not registered for this application." => "Die redirect_uri ist für diese Anwendung nicht registriert.",
        "The login cannot be continued" => "Die Anmeldung kann nicht fortgesetzt werden",
        "This sign-in request is unknown, expired or already used. Please start again from the application." => "Diese Anmeldeanfrage ist unbekannt, abgelaufen oder bereits verwendet. Bitte beginnen Sie erneut in der Anwendung.",
        "This sign-in request was already used. Please start again from the application." => "Diese Anmeldeanfrage wurde bereits verwendet. Bitte beginnen Sie erneut in der Anwendung.",
        "This sign-in request is unknown, expired, already used or was not finished on this browser. Please start again from the application." => "Diese Anmeldeanfrage ist unbekannt, abgelaufen, bereits verwendet oder wurde nicht in diesem Browser abgeschlossen. Bitte beginnen Sie erneut in der Anwendung.",
        "Device connected" => "Gerät verbunden",
        "You are signed in on your device. You can close this window." => "Sie sind auf Ihrem Gerät angemeldet. Sie können dieses Fenster schließen.",
        "The device cannot be connected" => "Das Gerät kann nicht verbunden werden",
        "The code has expired or was already used. Please start again on your device." => "Der Code ist abgelaufen oder wurde bereits verwendet. Bitte beginnen Sie erneut auf Ihrem Gerät.",
        "The logout request is invalid" => "Die Abmeldeanfrage ist ungültig",
        "The id_token_hint is not a valid ID token of this issuer." => "Der id_token_hint ist kein gültiges ID-Token dieses Ausstellers.",
        "The id_token_hint was not issued to this client_id." => "Der id_token_hint wurde nicht für diese client_id ausgestellt.",
        "A post_logout_redirect_uri needs a client_id or an id_token_hint." => "Eine post_logout_redirect_uri braucht eine client_id oder einen id_token_hint.",
        "The post_logout_redirect_uri is not registered for this application." => "Die post_logout_redirect_uri ist für diese Anwendung nicht registriert.",
        "Please try again" => "Bitte versuchen Sie es erneut",
        "The service is busy." => "Der Dienst ist ausgelastet.",
        "Signed out" => "Abgemeldet",
        "You have been signed out. You can close this window." => "Sie wurden abgemeldet. Sie können dieses Fenster schließen.",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_is_read_by_weight() {
        assert_eq!(accepted("de-CH,de;q=0.9,en;q=0.8"), ["de-CH", "de", "en"]);
        assert_eq!(accepted("en;q=0.5, de"), ["de", "en"]);
        assert_eq!(accepted("fr;q=0, *;q=0.1, it"), ["it"]);
        assert_eq!(accepted("de;q=x, en"), ["en"]);
        assert!(accepted("").is_empty());
        assert_eq!(first_known(accepted("fr-FR,fr;q=0.9,de;q=0.8")), Some("de"));
        assert_eq!(first_known(["fr", "it"]), None);
    }

    #[test]
    fn every_english_key_has_german() {
        let src = include_str!("i18n.rs");
        let start = src.find("fn en(").expect("en table");
        let end = src.find("fn de(").expect("de table");
        let keys: Vec<&str> = src[start..end]
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"')?.split_once("\" =>"))
            .map(|(k, _)| k)
            .collect();
        assert!(keys.len() > 40, "{keys:?}");
        for key in keys {
            assert!(!de(key).is_empty(), "no German for {key}");
        }
        assert_eq!(text("de", "no.such.key"), "");
        assert_eq!(text("xx", "login.next"), "Next");
    }
}

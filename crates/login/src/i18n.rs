//! Texts of the login pages by language. English only so far; a language is added as one more
//! arm of `text`, and `lang` picks the first of the request's `ui_locales` that has one.

/// Languages with texts.
const LANGUAGES: &[&str] = &["en"];

/// The first of `ui_locales` (space-separated, e.g. `de-CH en`) with texts, else English.
pub fn lang(ui_locales: &str) -> &'static str {
    for l in ui_locales.split_ascii_whitespace() {
        let base = l
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if let Some(found) = LANGUAGES.iter().find(|x| **x == base) {
            return found;
        }
    }
    "en"
}

/// The text `key` in `lang` (English when missing). Another language: one more table like
/// `en`, chosen here by `lang`, falling back to `en` for keys it lacks.
pub fn text(_lang: &str, key: &str) -> &'static str {
    en(key)
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
        _ => "",
    }
}

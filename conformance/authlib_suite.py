"""The suite's subset driven by Python authlib: discovery, code flow with PKCE (login through
the target's forms with requests), ID token validation against the JWKS, userinfo, refresh,
introspection, revocation and client credentials. One JSON result line per module, like
suite.mjs. Usage: python3 authlib_suite.py <target-config.json>
"""

import html
import json
import re
import sys
import time
import warnings
from urllib.parse import parse_qs, urljoin, urlparse

import requests

warnings.filterwarnings("ignore", message=".*authlib.jose.*")
from authlib.integrations.requests_client import OAuth2Session
from authlib.common.security import generate_token
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken

CFG = json.load(open(sys.argv[1], encoding="utf-8"))
CB = CFG["redirect_base"] + "/cb"
ACCOUNT = CFG["account"]


class Skip(Exception):
    pass


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def discovery():
    res = requests.get(CFG["issuer"].rstrip("/") + "/.well-known/openid-configuration", timeout=10)
    check(res.status_code == 200, f"discovery: {res.status_code}")
    meta = res.json()
    check(meta["issuer"] == CFG["issuer"], f"issuer {meta['issuer']} != {CFG['issuer']}")
    return meta


try:
    META, DISCOVERY_ERROR = discovery(), None
except Exception as e:  # every module then fails with the reason
    META, DISCOVERY_ERROR = {}, f"discovery failed: {type(e).__name__}: {e}"


def session(kind, **kw):
    c = CFG["clients"][kind]
    method = c["auth"] if c["auth"] in ("client_secret_basic", "client_secret_post", "none") else None
    if method is None:
        raise Skip(f"authlib subset covers secret and public clients, not {c['auth']}")
    return OAuth2Session(c["client_id"], c.get("client_secret"), token_endpoint_auth_method=method, **kw)


def first_form(page, url):
    m = re.search(r"<form\b[^>]*>.*?</form>", page, re.S | re.I)
    if not m:
        return None
    form_id = re.search(r'\sid="([^"]*)"', m.group(0)[: m.group(0).find(">")])
    tags = re.findall(r"<(?:input|button)\b[^>]*>", m.group(0), re.I)
    if form_id:
        tags += [t for t in re.findall(r"<(?:input|button)\b[^>]*>", page, re.I) if f'form="{form_id.group(1)}"' in t]
    attr = lambda tag, name: (lambda x: html.unescape(x.group(1)) if x else None)(re.search(rf'\s{name}="([^"]*)"', tag))
    action = attr(m.group(0)[: m.group(0).find(">") + 1], "action") or url
    method = (attr(m.group(0)[: m.group(0).find(">") + 1], "method") or "get").upper()
    data, pressed = {}, False
    for tag in tags:
        name, kind = attr(tag, "name"), (attr(tag, "type") or "text").lower()
        if not name:
            continue
        if kind == "submit" or tag.lower().startswith("<button"):
            if not pressed:
                data[name], pressed = attr(tag, "value") or "", True
            continue
        template = CFG["login"]["fields"].get(name)
        if template is not None:
            data[name] = template.replace("{username}", ACCOUNT["username"]).replace("{password}", ACCOUNT["password"])
        else:
            data[name] = attr(tag, "value") or ""
    return urljoin(url, action), method, data


def login(url):
    """Follows the OP's pages with a cookie-keeping requests session until it redirects to CB."""
    ua = requests.Session()
    method, data = "GET", None
    for _ in range(20):
        res = ua.request(method, url, data=data, allow_redirects=False, timeout=10)
        if res.is_redirect:
            url = urljoin(url, res.headers["location"])
            if url.startswith(CB):
                return url
            method, data = "GET", None
            continue
        form = first_form(res.text, url) if res.status_code < 400 else None
        check(form, f"stopped on {res.status_code} {url}")
        url, method, data = form
    raise AssertionError("login did not finish")


def verify_id_token(token, nonce, client_id):
    jwks = JsonWebKey.import_key_set(requests.get(META["jwks_uri"], timeout=10).json())
    claims = jwt.decode(token, jwks, claims_cls=CodeIDToken, claims_options={"iss": {"essential": True, "value": CFG["issuer"]}},
                        claims_params={"nonce": nonce, "client_id": client_id})
    claims.validate(now=int(time.time()), leeway=5)
    return claims


def code_flow(kind="basic", scope="openid email offline_access"):
    c = CFG["clients"][kind]
    s = session(kind, scope=scope, redirect_uri=CB, code_challenge_method="S256")
    verifier = generate_token(64)
    url, state = s.create_authorization_url(META["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(32), prompt="consent")
    nonce = parse_qs(urlparse(url).query)["nonce"][0]
    back = login(url)
    q = parse_qs(urlparse(back).query)
    check(q.get("state") == [state], "state not echoed")
    if META.get("authorization_response_iss_parameter_supported"):
        check(q.get("iss") == [CFG["issuer"]], "iss parameter missing or wrong")
    token = s.fetch_token(META["token_endpoint"], authorization_response=back, code_verifier=verifier)
    claims = verify_id_token(token["id_token"], nonce, c["client_id"])
    return s, token, claims


def m_code_pkce():
    _, token, claims = code_flow()
    if ACCOUNT.get("sub"):
        check(claims["sub"] == ACCOUNT["sub"], f"sub {claims['sub']}")


def m_userinfo():
    s, token, claims = code_flow()
    info = s.get(META["userinfo_endpoint"]).json()
    check(info.get("sub") == claims["sub"] and "email" in info, f"userinfo {info}")


def m_refresh():
    s, token, claims = code_flow()
    check("refresh_token" in token, "no refresh token")
    fresh = s.refresh_token(META["token_endpoint"], refresh_token=token["refresh_token"])
    check(fresh["access_token"] != token["access_token"], "no new access token")
    info = s.get(META["userinfo_endpoint"]).json()
    check(info.get("sub") == claims["sub"], f"userinfo after refresh {info}")


def m_introspection():
    if "introspection_endpoint" not in META:
        raise Skip("no introspection_endpoint")
    _, token, claims = code_flow()
    api = session("introspection")
    res = api.introspect_token(META["introspection_endpoint"], token=token["access_token"]).json()
    check(res.get("active") is True and res.get("sub") == claims["sub"], f"introspection {res}")


def m_revocation():
    if "revocation_endpoint" not in META:
        raise Skip("no revocation_endpoint")
    s, token, _ = code_flow()
    check(s.revoke_token(META["revocation_endpoint"], token=token["access_token"]).status_code == 200, "revocation refused")
    check(s.get(META["userinfo_endpoint"]).status_code == 401, "a revoked token still works at userinfo")


def m_client_credentials():
    c = CFG["clients"]["client_credentials"]
    s = session("client_credentials", scope=c.get("scope"))
    token = s.fetch_token(META["token_endpoint"], grant_type="client_credentials")
    check(token.get("access_token") and token.get("token_type", "").lower() == "bearer", f"token {token}")


MODULES = {
    "authlib-discovery": lambda: None,
    "authlib-code-pkce": m_code_pkce,
    "authlib-userinfo": m_userinfo,
    "authlib-refresh": m_refresh,
    "authlib-introspection": m_introspection,
    "authlib-revocation": m_revocation,
    "authlib-client-credentials": m_client_credentials,
}

failed = 0
for name, fn in MODULES.items():
    try:
        if name in CFG.get("skip", {}):
            raise Skip(CFG["skip"][name])
        if DISCOVERY_ERROR:
            raise AssertionError(DISCOVERY_ERROR)
        fn()
        line = {"module": name, "result": "pass"}
    except Skip as e:
        line = {"module": name, "result": "skip", "reason": str(e)}
    except Exception as e:  # a failing module reports and the others still run
        failed += 1
        line = {"module": name, "result": "fail", "reason": f"{type(e).__name__}: {e}"}
    print(json.dumps(line), flush=True)
sys.exit(1 if failed else 0)

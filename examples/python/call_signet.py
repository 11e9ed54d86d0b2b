#!/usr/bin/python3
"""Calling Signet from Python with requests-oauthlib (docs/calling-signet.md).

Logs a user in (signed with the consumer only), reads GET /me and writes POST /notes (JSON)
with the user's token, then prints the new note's id. Configured only by the environment:

    SIGNET_DATA_URL         e.g. http://127.0.0.1:8000 (the data service, as it is signed for)
    SIGNET_CONSUMER_KEY     this service's consumer (signetctl consumers create)
    SIGNET_CONSUMER_SECRET
    SIGNET_USERNAME         the user to log in
    SIGNET_PASSWORD

Exit 0 on success; otherwise 1 and "error: <code>: <message>" on stderr, <code> being the
service's error code (signature_invalid, invalid_credentials, ...) or "unavailable".

requests-oauthlib out of the box does not produce what Signet checks for a JSON body: it
leaves the body out of the signature (oauth_body_hash absent: 401 body_hash_invalid), and
with force_include_body=True it adds a SHA-1 body hash, which an HMAC-SHA256 request may not
carry (SHA-256 is required), and hands GETs an empty body. SignetAuth below fixes both in a
dozen lines: a non-form body always goes to the signer, and the hash is SHA-256 for
HMAC-SHA256 (SHA-1 only for HMAC-SHA1).
"""

import base64
import hashlib
import os
import sys

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, Client
from requests.utils import to_native_string
from requests_oauthlib import OAuth1

FORM = "application/x-www-form-urlencoded"


class BodyHashClient(Client):
    """oauthlib's Client, with oauth_body_hash as the OAuth Body Hash draft defines it:
    SHA-256 of the raw body bytes under HMAC-SHA256 (oauthlib always uses SHA-1)."""

    def get_oauth_params(self, request):
        params = [(k, v) for k, v in super().get_oauth_params(request) if k != "oauth_body_hash"]
        content_type = request.headers.get("Content-Type") or ""
        if request.body and FORM not in content_type:
            body = request.body if isinstance(request.body, bytes) else request.body.encode("utf-8")
            sha = hashlib.sha1 if self.signature_method == SIGNATURE_HMAC_SHA1 else hashlib.sha256
            params.append(("oauth_body_hash", base64.b64encode(sha(body).digest()).decode("ascii")))
        return params


class SignetAuth(OAuth1):
    """requests auth for Signet: HMAC-SHA256, and every non-form body signed through its hash."""

    client_class = BodyHashClient

    def __init__(self, consumer_key, consumer_secret, token_key=None, token_secret=None):
        super().__init__(
            consumer_key,
            consumer_secret,
            resource_owner_key=token_key,
            resource_owner_secret=token_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
        )

    def __call__(self, r):
        content_type = r.headers.get("Content-Type") or ""
        if r.body and FORM not in content_type:
            # a JSON (or any non-form) body: the signer must see it to hash it
            body = r.body.decode("utf-8") if isinstance(r.body, bytes) else r.body
            url, headers, _ = self.client.sign(str(r.url), str(r.method), body, r.headers)
            r.url = to_native_string(url)
            r.prepare_headers(headers)
            return r
        return super().__call__(r)


class SignetError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


def call(method, url, auth, **kwargs):
    """One signed call; the parsed JSON answer, or SignetError with the service's code."""
    try:
        res = requests.request(method, url, auth=auth, timeout=10, **kwargs)
    except requests.RequestException as e:
        raise SignetError("unavailable", f"{method} {url}: {e}") from e
    if res.ok:
        return res.json() if res.content else None
    code, message = f"http_{res.status_code}", res.reason
    if "json" in res.headers.get("Content-Type", ""):
        answer = res.json()
        code, message = answer.get("error", code), answer.get("message", message)
    raise SignetError(code, message)


def main():
    names = ["SIGNET_DATA_URL", "SIGNET_CONSUMER_KEY", "SIGNET_CONSUMER_SECRET", "SIGNET_USERNAME", "SIGNET_PASSWORD"]
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        print(f"error: missing_setting: set {', '.join(missing)}", file=sys.stderr)
        return 2
    base = os.environ["SIGNET_DATA_URL"].rstrip("/")
    key, secret = os.environ["SIGNET_CONSUMER_KEY"], os.environ["SIGNET_CONSUMER_SECRET"]
    try:
        # 1. consumer only (two-legged): the user's token comes back
        login = call(
            "POST",
            f"{base}/authenticate",
            SignetAuth(key, secret),
            data={"username": os.environ["SIGNET_USERNAME"], "password": os.environ["SIGNET_PASSWORD"]},
        )
        # 2. consumer + the user's token
        as_user = SignetAuth(key, secret, login["token"], login["secret"])
        me = call("GET", f"{base}/me", as_user)
        note = call("POST", f"{base}/notes", as_user, json={"title": f"Hello from Python, {me['username']}", "body": "signed with requests-oauthlib"})
    except SignetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(note["id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

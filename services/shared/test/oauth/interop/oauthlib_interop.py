#!/usr/bin/python3
"""Independent OAuth 1.0a implementation for interop tests: Debian's python3-oauthlib.

Reads one JSON object on stdin, writes one JSON object on stdout.

  {"action": "sign", "cases": [{method, url, body?, contentType?, consumer: {key, secret},
                                token?: {key, secret}, signatureMethod, nonce, timestamp}]}
    -> {"results": [{"authorization", "url", "body"}]}

  {"action": "verify", "cases": [{method, url, body?, contentType?, authorization,
                                  consumerSecret, tokenSecret, signatureMethod}]}
    -> {"results": [{"valid": bool, "bodyHash": "ok" | "absent" | "mismatch"}]}

Verification uses oauthlib's server-side pieces: collect_parameters over the query, the
form body and the Authorization header, then verify_hmac_sha1 / verify_hmac_sha256 on an
oauthlib.common.Request. oauthlib does not check oauth_body_hash, so that is done here
with hashlib (SHA-256 for HMAC-SHA256, SHA-1 for HMAC-SHA1, per Signet's contract).
"""
import base64
import hashlib
import json
import sys
from urllib.parse import urlparse

import oauthlib
from oauthlib.common import Request
from oauthlib.oauth1 import Client, SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256
from oauthlib.oauth1.rfc5849 import signature

METHODS = {"HMAC-SHA1": SIGNATURE_HMAC_SHA1, "HMAC-SHA256": SIGNATURE_HMAC_SHA256}


def is_form(content_type):
    return bool(content_type) and content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"


def sign(case):
    token = case.get("token") or {}
    client = Client(
        case["consumer"]["key"],
        client_secret=case["consumer"]["secret"],
        resource_owner_key=token.get("key"),
        resource_owner_secret=token.get("secret"),
        signature_method=METHODS[case["signatureMethod"]],
        nonce=case["nonce"],
        timestamp=str(case["timestamp"]),
    )
    headers = {"Content-Type": case["contentType"]} if case.get("contentType") else {}
    uri, headers, body = client.sign(case["url"], http_method=case["method"], body=case.get("body"), headers=headers)
    return {"authorization": headers["Authorization"], "url": uri, "body": body}


def verify(case):
    body = case.get("body")
    headers = {"Authorization": case["authorization"]}
    if case.get("contentType"):
        headers["Content-Type"] = case["contentType"]
    form = is_form(case.get("contentType"))
    request = Request(case["url"], case["method"], body if form else None, headers)
    params = signature.collect_parameters(
        uri_query=urlparse(case["url"]).query,
        body=body if form else None,
        headers=headers,
        exclude_oauth_signature=True,
    )
    oauth = dict(signature.collect_parameters(headers=headers, exclude_oauth_signature=False))
    request.params = params
    request.signature = oauth.get("oauth_signature")
    method = case["signatureMethod"]
    if method == "HMAC-SHA1":
        valid = signature.verify_hmac_sha1(request, case["consumerSecret"], case["tokenSecret"])
    else:
        valid = signature.verify_hmac_sha256(request, case["consumerSecret"], case["tokenSecret"])
    sent = oauth.get("oauth_body_hash")
    if sent is None:
        body_hash = "absent"
    else:
        algo = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(algo((body or "").encode("utf-8")).digest()).decode("ascii")
        body_hash = "ok" if sent == expected else "mismatch"
    return {"valid": bool(valid), "bodyHash": body_hash}


def main():
    req = json.load(sys.stdin)
    action = {"sign": sign, "verify": verify}[req["action"]]
    out = {"oauthlib": oauthlib.__version__, "results": [action(c) for c in req["cases"]]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""Schemathesis hooks for scripts/conformance.sh: four requests no schema can describe.

A list's `after` is a cursor the server signed (HMAC) for one tenant, list and sort: any other
non-empty string is refused with a 422, which the document lists, so generated values would
only test that refusal and fail the check that valid requests are accepted. It is left out
of generated requests; the modules' own tests page through real cursors.

An Idempotency-Key belongs to one request: the same key with another body is refused with
422 (as the IETF draft says), and generated keys repeat (`0`, `A`). A valid generated key is
replaced by a fresh UUID, so the header is still sent; an invalid one is kept, for the 400.
The coverage phase, which these map hooks do not reach, reuses its keys: those 422s are
dropped by `filter_failure` below, and only those.

Schemathesis judges a header sent empty to be absent, so it counts a request with an empty
`If-Match`, `If-None-Match` or `Idempotency-Key` as valid; the server reads an empty tag list
or key as malformed: a 400, which the document lists and the server's own tests check.

A `ref` field's id must name an existing row: a well-formed id of no row is refused with 422
naming the field ("refers to a record that does not exist"), an answer to the data's state
like 404 and 409, which no schema can express. Those 422s are dropped, and only those.

(A `before_call` hook would reach every phase, but its presence makes Schemathesis 4.32 send
the Authorization header in the case that checks its absence is refused.)
"""

import json
import re
import uuid

import schemathesis

CORE_HEADERS = ("If-Match", "If-None-Match", "Idempotency-Key")
VALID_KEY = re.compile(r"^[\x21-\x7E]{1,255}$")


@schemathesis.hook
def map_query(context, query):
    if query and "after" in query:
        query = {name: value for name, value in query.items() if name != "after"}
    return query


@schemathesis.hook
def map_headers(context, headers):
    key = (headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.match(key):
        headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    return headers


@schemathesis.hook
def filter_failure(context, failure, case, response):
    sent = response.request.headers
    if response.status_code == 400 and any(sent.get(name) == "" for name in CORE_HEADERS):
        return False
    if response.status_code != 422:
        return True
    reused_key = b"this Idempotency-Key was used with another request" in response.content
    if "Idempotency-Key" in sent and reused_key:
        return False
    return not dangling_reference(response)


def dangling_reference(response):
    try:
        errors = json.loads(response.content).get("errors") or []
    except (ValueError, AttributeError):
        return False
    return bool(errors) and all(
        error.get("message") == "refers to a record that does not exist" for error in errors
    )

"""Checks of sigil's REST gateway that schemathesis runs on every response (SCHEMATHESIS_HOOKS)."""

import schemathesis


@schemathesis.check
def error_body(ctx, response, case):
    """Every 4xx carries the contract's error body: {"errors": ["..."], "errorCode": "..."}."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except Exception as error:  # noqa: BLE001 - any unreadable body fails the check the same way
        raise AssertionError(f"{response.status_code} without a JSON body: {error}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} body is not an object: {body!r}")
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors or not all(isinstance(e, str) for e in errors):
        raise AssertionError(f"{response.status_code} body has no list of error strings: {body!r}")
    code = body.get("errorCode")
    if not isinstance(code, str) or not code:
        raise AssertionError(f"{response.status_code} body has no errorCode: {body!r}")
    return None

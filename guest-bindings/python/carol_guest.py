"""Helpers for Carol machines written in Python, as `carol-guest` has for Rust ones.

`cargo carol build` puts this module on the machine's Python path: `import carol_guest`. It
wraps the node's services (`wit_world.imports`, which every Carol world includes through
`carol:machine/machine`); the bindings themselves stay usable beside it.
"""

import json
from typing import Any, List, Optional, Tuple

from componentize_py_types import Err
from wit_world.imports import bls_sign, http_fetch, identity


def sign(message: bytes) -> bytes:
    """Signs `message` with the node's key.

    The node signs `machine_id || message`, so the signature names this machine. Returns a
    96-byte compressed BLS12-381 G2 point.
    """
    return bls_sign.sign(bytes(message))


def public_key() -> bytes:
    """The node's BLS12-381 public key: a 48-byte compressed G1 point."""
    return bls_sign.public_key()


def machine_id() -> bytes:
    """This machine's id: SHA-256(binary id || params), 32 bytes."""
    return identity.machine_id()


def params() -> bytes:
    """The params this machine was created with."""
    return identity.params()


def fetch(
    url: str,
    method: http_fetch.Method = http_fetch.Method.GET,
    headers: Optional[List[Tuple[str, str]]] = None,
    body: bytes = b"",
) -> http_fetch.Response:
    """Makes a request through the node, within its outbound policy and limits.

    Raises `componentize_py_types.Err` holding an `http_fetch.Error_*` when there is no
    response (a refused destination, a timeout, no connection, a body over the node's limit).
    """
    request = http_fetch.Request(
        method=method, url=url, headers=list(headers or []), body=bytes(body)
    )
    return http_fetch.fetch(request)


def get(url: str, headers: Optional[List[Tuple[str, str]]] = None) -> http_fetch.Response:
    """`GET url` through the node; see `fetch`."""
    return fetch(url, headers=headers)


def text(response: http_fetch.Response) -> str:
    """The body as text, with invalid UTF-8 replaced."""
    return response.body.decode("utf-8", errors="replace")


def header(response: http_fetch.Response, name: str) -> Optional[str]:
    """The value of the first header named `name` (case-insensitive), if any."""
    name = name.lower()
    for key, value in response.headers:
        if key.lower() == name:
            return value
    return None


class FetchError(Exception):
    """Why `get_json` has no JSON: no response, a status other than 2xx, or a body that is not
    JSON. `error` is the node's `http_fetch.Error_*` when there was no response; `status` and
    `body` are the response's when there was one."""

    def __init__(
        self,
        message: str,
        error: Optional[Any] = None,
        status: Optional[int] = None,
        body: bytes = b"",
    ):
        super().__init__(message)
        self.error = error
        self.status = status
        self.body = body


def get_json(url: str, headers: Optional[List[Tuple[str, str]]] = None) -> Any:
    """`GET url` through the node, asking for JSON, and the answer parsed.

    Raises `FetchError` unless the answer is a 2xx response whose body is JSON.
    """
    all_headers = [("accept", "application/json")] + list(headers or [])
    try:
        response = get(url, all_headers)
    except Err as e:
        raise FetchError(f"no answer from {url}: {describe(e.value)}", error=e.value) from None
    if not 200 <= response.status < 300:
        raise FetchError(
            f"{url} answered {response.status}", status=response.status, body=response.body
        )
    try:
        return json.loads(response.body)
    except ValueError as e:
        raise FetchError(
            f"{url} answered with something that is not JSON: {e}",
            status=response.status,
            body=response.body,
        ) from None


def describe(error: Any) -> str:
    """A fetch error in words: its WIT case (`invalid-url`, `denied`, `timeout`,
    `connection`, `too-large`) and the node's reason, as the JavaScript helpers say it."""
    reason = getattr(error, "value", None)
    case = type(error).__name__.removeprefix("Error_")
    kind = "".join("-" + c.lower() if c.isupper() else c for c in case).lstrip("-")
    return f"{kind}: {reason}" if reason is not None else kind

"""Keeping secrets out of what a run leaves behind (saved reports, notebook outputs, logs).

A report is stored in the notebook and ends up in git, on GitHub, in HTML exports. The agent_config it
records for reproducibility holds LLM and search API keys (the SDK passes them as ``bytearray``), and an
agent's error message may echo a key back. :func:`redact` makes the config safe to store and
:func:`scrub_text` removes known secret strings from free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "is_secret_key", "redact", "scrub_text", "secret_values"]

MASK = "***"

# Key names (lower-cased, "-" and " " read as "_") whose values are secrets, exactly or as a suffix
# ("llm_api_key", "access_token", "client_secret"). "max_tokens" is no secret: suffixes need the "_".
_SECRET_NAMES = frozenset(
    {
        "api_key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "search_api_key",
        "access_key",
        "secret_key",
        "private_key",
        "credentials",
    }
)
_SECRET_SUFFIXES = tuple(f"_{name}" for name in _SECRET_NAMES)

# Secret strings shorter than this are not searched for in free text: replacing every "ab" of a
# report would destroy it, and a key that short protects nothing anyway.
_MIN_SCRUB_LENGTH = 4

# Credentials that look like credentials even when we were not told about them.
# Both need a digit and some length, so that prose ("basic principles", "task-oriented") is left alone.
_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}"),  # Authorization values
    re.compile(r"\bsk-(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,}"),  # OpenAI-style API keys
)
_URL_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)(?P<password>[^/\s@]+)(?=@)")


def is_secret_key(key: object) -> bool:
    """Whether a config key names a secret (``api_key``, ``X-Api-Key``, ``access_token``, ...)."""
    if not isinstance(key, str):
        return False
    name = re.sub(r"[-\s]+", "_", key.strip().lower())
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


def redact(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A deep copy of ``config`` with every secret value replaced by ``"***"``; the input is untouched.

    Secret values are those under a secret-looking key (at any depth, in dicts and lists) and every
    ``bytes``/``bytearray`` (how the SDK carries API keys). Passwords in URLs (``scheme://user:pw@host``)
    are masked too. Values that are not JSON types are kept as they are (the caller decides how to
    serialise them); tuples and sets become lists.
    """
    if config is None:
        return {}
    return {str(key): _redact_value(key, value) for key, value in config.items()}


def _redact_value(key: object, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return MASK
    if is_secret_key(key) and not isinstance(value, Mapping | list | tuple | set | frozenset | bool):
        return MASK if value != "" else ""  # an empty placeholder tells the reader no key was set
    if isinstance(value, Mapping):
        if is_secret_key(key):  # e.g. "credentials": {...}: everything below is secret
            return {str(k): MASK for k in value}
        return {str(k): _redact_value(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(key, v) for v in value]
    if isinstance(value, str):
        return _URL_USERINFO.sub(lambda m: m.group("head") + MASK, value)
    return value


def secret_values(config: Mapping[str, Any] | None) -> list[str]:
    """The secret strings held in ``config`` (values under secret keys, decoded bytes), longest first.

    These are what :func:`scrub_text` looks for in free text such as an error message.
    """
    found: set[str] = set()
    if config is not None:
        _collect(None, config, found, secret=False)
    return sorted(found, key=lambda s: (-len(s), s))


def _collect(key: object, value: Any, found: set[str], *, secret: bool) -> None:
    secret = secret or is_secret_key(key)
    if isinstance(value, Mapping):
        for k, v in value.items():
            _collect(k, v, found, secret=secret)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _collect(key, v, found, secret=secret)
    elif isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", errors="ignore").strip()
        if text:
            found.add(text)
    elif isinstance(value, str):
        if secret and value.strip():
            found.add(value.strip())
        for match in _URL_USERINFO.finditer(value):
            found.add(match.group("password"))
    elif secret and isinstance(value, int | float) and not isinstance(value, bool):
        found.add(str(value))


def scrub_text(text: str, secrets: Iterable[str | bytes | bytearray] = ()) -> str:
    """``text`` with every known secret string, bearer token and ``sk-...`` key replaced by ``"***"``.

    Secrets shorter than 4 characters are ignored (see ``_MIN_SCRUB_LENGTH``); longer ones are replaced
    first so that a key containing another is masked whole.
    """
    if not text:
        return text
    values = {s.decode("utf-8", errors="ignore") if isinstance(s, bytes | bytearray) else s for s in secrets}
    for secret in sorted((v for v in values if len(v) >= _MIN_SCRUB_LENGTH), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _PATTERNS[1].sub(MASK, text)
    return _URL_USERINFO.sub(lambda m: m.group("head") + MASK, text)

"""The one definition of a secret, and keeping secrets out of what a run leaves behind.

A report is stored in the notebook and ends up in git, on GitHub, in HTML exports. The agent_config it
records for reproducibility holds LLM and search API keys (the SDK passes them as ``bytearray``), and an
agent's error message may echo a key back. :func:`redact` makes a config safe to store,
:func:`secret_values` lists the secret strings a config (or an agent's settings) holds, and
:func:`scrub_text` masks them in free text.

**What is a secret.** Every place a key can enter feeds the same function, :func:`secret_values`:

* a value under a secret key name (:func:`is_secret_key`: ``key``, ``api_key``, ``openai_key``, ``auth``,
  ``token``, ``secret``, ``password``, ``authorization``, ``cookie``, ``credentials``, and any name ending
  in ``_key``, ``_token``, ``_secret``, ``_password`` but for a few identifiers such as ``corpus_key`` and
  ``sort_key``; ``-`` and spaces read as ``_``, case ignored), at
  any depth, in dicts and lists; a dict under such a name is secret all through;
* every ``bytes``/``bytearray`` (how the SDK carries keys);
* an HTTP header value such as ``Authorization: Bearer T``: both the whole value and the bare ``T``;
* in any string of a config, a URL's password (``scheme://user:pw@host``) and the values of secret query
  parameters (``?api_key=K``, ``&key=K``, ``&token=K``);
* the value of an environment variable a config names: ``api_key_env: "MY_KEY"`` (any secret name with
  ``_env`` appended) makes ``os.environ["MY_KEY"]`` a secret.

**How free text is scrubbed** (:func:`scrub_text`). Matching is by whole token, never inside a word:
an occurrence counts only where the characters around it are not letters or digits. Secrets shorter
than 4 characters are never searched for (they protect nothing, and would shred the text). Then:

* a *key-like* secret (anything but a word: it has a digit and a letter, or another character than
  letters, or more than 24 characters; every real API key) is masked wherever it appears as a token;
* a *word-like* secret (letters only, or digits only, at most 24 characters: ``"battery"``,
  ``"storage"``, ``"123456"``) cannot be told from the word itself in prose, so it is masked only where
  it is plainly a key: as the whole value of a field, inside quotes (``'battery'``), after ``=``
  (``?key=battery``), after an auth scheme (``Bearer battery``), or after a label that names a key
  (``api key: battery``, ``token=battery``, ``key provided: battery``). A question about "grid-scale
  battery storage" stays intact, and so do source URLs.

Credentials nobody told us about are masked too when they look like one: ``Bearer``/``Basic`` values,
``sk-...`` keys, URL passwords and secret query parameters.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "describe_exception",
    "is_secret_key",
    "is_word_like",
    "log_failure",
    "redact",
    "scrub_logger",
    "scrub_text",
    "secret_needles",
    "secret_values",
]

MASK = "***"

# Key names (lower-cased, "-" and " " read as "_") whose values are secrets, exactly or as a suffix
# ("llm_api_key", "access_token", "client_secret"). "max_tokens" is no secret: suffixes need the "_"
# and the singular.
_SECRET_NAMES = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "openai_key",
        "auth",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "cookie",
        "credentials",
    }
)
_SECRET_SUFFIXES = ("_key", "_apikey", "_token", "_secret", "_password", "_passwd", "_authorization", "_credentials")
# Names that end like a secret but name an identifier: masking them would break a rebuild (the SDK
# adapter's "corpus_key" is the corpus path) and scrubbing their values would shred paths and ids.
_NOT_SECRET = frozenset({"corpus_key", "cache_key", "sort_key", "primary_key", "partition_key", "foreign_key"})
_ENV_SUFFIX = "_env"  # "api_key_env": the name of an environment variable holding the key

# Secret strings shorter than this are not searched for in free text: replacing every "ab" of a
# report would destroy it, and a key that short protects nothing anyway.
_MIN_SCRUB_LENGTH = 4
_WORD_MAX = 24
_WORD_LIKE = re.compile(rf"(?=.{{1,{_WORD_MAX}}}\Z)(?:[^\W\d_]+(?:['-][^\W\d_]+)*|\d+)\Z", re.DOTALL)
_AUTH_SCHEME = re.compile(r"(?i)\A\s*(?:bearer|basic|token|digest|apikey|key)\s+(\S+)\s*\Z")

# Credentials that look like credentials even when we were not told about them.
# Both need a digit and some length, so that prose ("basic principles", "task-oriented") is left alone.
_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}"),  # Authorization values
    re.compile(r"\bsk-(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,}"),  # OpenAI-style API keys
)
_URL_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)(?P<password>[^/\s@]+)(?=@)")
_QUERY_PARAM = re.compile(r"(?P<head>[?&;](?P<name>[A-Za-z0-9_.\-]{1,64})=)(?P<value>[^&#;\s\"'<>`]+)")
# Where a word-like secret is plainly a key: after "=", an auth scheme, or a label naming a key.
_KEY_CONTEXT = (
    r"(?:=|(?i:\b(?:bearer|basic|token)[ \t]+)"
    r"|(?i:(?<![A-Za-z])(?:key|token|secret|password|passwd|auth[a-z]*|credentials?|provided)[ \t]*[:=][ \t]*))"
)


def is_secret_key(key: object) -> bool:
    """Whether a config key names a secret (``api_key``, ``X-Api-Key``, ``access_token``, ``auth``, ...)."""
    if not isinstance(key, str):
        return False
    name = re.sub(r"[-\s]+", "_", key.strip().lower())
    return name not in _NOT_SECRET and (name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES))


def _names_env_secret(key: object) -> bool:
    """``api_key_env``, ``search_api_key_env``, ``token_env``: the key names a variable holding a secret."""
    if not isinstance(key, str):
        return False
    name = re.sub(r"[-\s]+", "_", key.strip().lower())
    return name.endswith(_ENV_SUFFIX) and is_secret_key(name[: -len(_ENV_SUFFIX)])


def redact(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A deep copy of ``config`` with every secret value replaced by ``"***"``; the input is untouched.

    Secret values are those under a secret key name (at any depth, in dicts and lists) and every
    ``bytes``/``bytearray`` (how the SDK carries API keys). In strings, URL passwords
    (``scheme://user:pw@host``) and secret query parameters (``?api_key=...``) are masked too. Values
    that are not JSON types are kept as they are (the caller decides how to serialise them); tuples and
    sets become lists.
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
        return _mask_url_secrets(value)
    return value


def _mask_url_secrets(text: str) -> str:
    text = _URL_USERINFO.sub(lambda m: m.group("head") + MASK, text)
    if "=" not in text:
        return text
    return _QUERY_PARAM.sub(lambda m: m.group("head") + MASK if is_secret_key(m.group("name")) else m.group(0), text)


def secret_values(config: Mapping[str, Any] | None) -> list[str]:
    """The secret strings held in ``config`` (see the module docstring), longest first.

    These are what :func:`scrub_text` looks for in free text such as an error message. Agents that hold
    keys of their own (``SupportsSecrets``) list theirs with this function too, so there is one rule.
    """
    found: set[str] = set()
    if config is not None:
        _collect(None, config, found, secret=False)
    return sorted(found, key=lambda s: (-len(s), s))


def _add(found: set[str], value: str) -> None:
    value = value.strip()
    if value:
        found.update(_variants(value))


def _variants(secret: str) -> tuple[str, ...]:
    """A secret and what an echo may show of it: ``Bearer T`` is also ``T``."""
    match = _AUTH_SCHEME.match(secret)
    return (secret, match.group(1)) if match else (secret,)


def _collect(key: object, value: Any, found: set[str], *, secret: bool) -> None:
    secret = secret or is_secret_key(key)
    if isinstance(value, Mapping):
        for k, v in value.items():
            _collect(k, v, found, secret=secret)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _collect(key, v, found, secret=secret)
    elif isinstance(value, bytes | bytearray | memoryview):
        _add(found, bytes(value).decode("utf-8", errors="ignore"))
    elif isinstance(value, str):
        if secret:
            _add(found, value)
        elif _names_env_secret(key) and value.strip():
            _add(found, os.environ.get(value.strip(), ""))
        for match in _URL_USERINFO.finditer(value):
            _add(found, match.group("password"))
        if "=" in value:
            for match in _QUERY_PARAM.finditer(value):
                if is_secret_key(match.group("name")):
                    _add(found, match.group("value"))
    elif secret and isinstance(value, int | float) and not isinstance(value, bool):
        found.add(str(value))


def is_word_like(secret: str) -> bool:
    """Letters only (words joined by ``-`` or ``'`` allowed) or digits only, at most 24 characters."""
    return _WORD_LIKE.match(secret) is not None


def _bounded(secret: str) -> str:
    """``secret`` as a regex that matches only a whole token (no letter or digit glued to it)."""
    head = r"(?<![^\W_])" if secret[0].isalnum() else ""
    tail = r"(?![^\W_])" if secret[-1].isalnum() else ""
    return head + re.escape(secret) + tail


@functools.lru_cache(maxsize=64)
def _matcher(secrets: frozenset[str]) -> tuple[frozenset[str], re.Pattern[str] | None]:
    """The whole-value set and one compiled pattern for a set of secrets (cached: a report scrubs
    thousands of strings with the same few secrets)."""
    values = {v for s in secrets for v in _variants(s.strip()) if len(v) >= _MIN_SCRUB_LENGTH}
    words = sorted((v for v in values if is_word_like(v)), key=len, reverse=True)
    keys = sorted((v for v in values if not is_word_like(v)), key=len, reverse=True)
    parts = []
    if keys:
        parts.append("(?P<key>" + "|".join(_bounded(k) for k in keys) + ")")
    if words:
        alternatives = "|".join(_bounded(w) for w in words)
        parts.append(f"(?P<pre>{_KEY_CONTEXT})(?P<word>{alternatives})")
        parts.append(f"(?P<quote>[\"'`])(?P<quoted>{alternatives})(?P=quote)")
    pattern = re.compile("|".join(parts)) if parts else None
    return frozenset(values), pattern


def secret_needles(secrets: Iterable[str]) -> tuple[str, ...]:
    """Strings one of which a text must contain for :func:`scrub_text` to mask one of ``secrets`` in it.

    A cheap pre-check for hot paths (every chunk of a run that holds a key): ``any(n in text ...)`` is a
    few substring searches in C, where the full scrub compiles nothing but runs several patterns. The JSON
    escaped form is included, so a key inside a chunk's JSON text is found too.
    """
    values, _ = _matcher(frozenset(s for s in secrets if isinstance(s, str)))
    needles = set(values) | {json.dumps(v)[1:-1] for v in values}
    return tuple(sorted(needles))


def _replace(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("key") is not None:
        return MASK
    if groups.get("word") is not None:
        return f"{groups['pre']}{MASK}"
    return f"{groups['quote']}{MASK}{groups['quote']}"


def scrub_text(text: str, secrets: Iterable[str | bytes | bytearray] = ()) -> str:
    """``text`` with every known secret, bearer token, ``sk-...`` key and URL credential masked.

    See the module docstring for the rule: whole tokens only; word-like secrets only where they are
    plainly a key; secrets shorter than 4 characters never.
    """
    if not text:
        return text
    given = frozenset(
        s.decode("utf-8", errors="ignore") if isinstance(s, bytes | bytearray) else s
        for s in secrets
        if isinstance(s, str | bytes | bytearray)
    )
    if given:
        values, pattern = _matcher(given)
        stripped = text.strip()
        if stripped in values:  # the whole value of a field
            return text.replace(stripped, MASK)
        if pattern is not None:
            text = pattern.sub(_replace, text)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _PATTERNS[1].sub(MASK, text)
    return _mask_url_secrets(text)


class _ScrubbingFilter(logging.Filter):
    """Masks credentials that look like credentials (``?api_key=...``, ``Bearer ...``, URL passwords) in
    every record of a third-party logger: ``httpx`` logs each request's full URL at INFO."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's business, not ours
            return True
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def scrub_logger(name: str) -> None:
    """Install the scrubbing filter on the logger ``name`` (once); used for ``httpx``, whose request
    lines would show a key passed in an endpoint's query string."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, _ScrubbingFilter) for f in logger.filters):
        logger.addFilter(_ScrubbingFilter())


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, even for an exception whose ``str()`` raises (it must never hide the failure)."""
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        return f"{name} (its message could not be read)"
    return f"{name}: {text}" if text else name


def log_failure(logger: logging.Logger, what: str, exc: BaseException, secrets: Iterable[str] = ()) -> None:
    """Log that ``what`` failed, as one warning line with the error's type and text, keys masked.

    Never with a traceback: an exception raised by an agent, an LLM client or a widget handler may carry
    agent text that echoes a key, and a traceback's frames print it again where no scrubber looks.
    """
    logger.warning("%s: %s", what, scrub_text(describe_exception(exc), list(secrets)))

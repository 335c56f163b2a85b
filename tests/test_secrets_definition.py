"""Issue 9, findings 8 and 9: one definition of a secret, fed by every place a key enters; whole tokens only.

The rule (``deepsearch_nb/_secrets.py``): a key-like secret is masked wherever it is a token; a
word-like secret ("battery") only where it is plainly a key (the whole value, quoted, after ``=``, an auth
scheme or a label naming a key), so a question about batteries survives a key that is the word "battery".
"""

from __future__ import annotations

import secrets

import pytest

from deepsearch_nb._secrets import MASK, is_secret_key, is_word_like, redact, scrub_text, secret_values

KEY = secrets.token_urlsafe(24)


@pytest.mark.parametrize("name", ["key", "openai_key", "auth", "token", "secret", "password", "authorization"])
def test_finding8_short_key_names_are_secret_names_and_masked_in_the_saved_config(name: str) -> None:
    assert is_secret_key(name)
    assert redact({"llm": {name: KEY}}) == {"llm": {name: MASK}}
    assert secret_values({"llm": {name: KEY}}) == [KEY]


@pytest.mark.parametrize("name", ["search_key", "x-auth-token", "client_secret", "db_password", "Proxy-Authorization"])
def test_finding8_suffixes_name_secrets(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "token_limit", "keyword", "keys", "author", "api_key_env", "monkey", "corpus_key", "sort_key"],
)
def test_finding8_ordinary_names_stay(name: str) -> None:
    assert not is_secret_key(name)


def test_finding8_a_bearer_header_gives_the_whole_value_and_the_bare_token() -> None:
    found = secret_values({"headers": {"Authorization": f"Bearer {KEY}"}})
    assert set(found) == {f"Bearer {KEY}", KEY}
    assert KEY not in scrub_text(f"server said: token {KEY} is revoked", found)
    assert KEY not in scrub_text(f"401 for {KEY}", [f"Bearer {KEY}"])  # an agent listing only the header


@pytest.mark.parametrize("param", ["api_key", "key", "token", "access_token"])
def test_finding8_secret_url_query_values_are_secrets_and_masked_in_the_config(param: str) -> None:
    url = f"https://llm.example/v1?model=m&{param}={KEY}&x=1"
    assert secret_values({"base_url": url}) == [KEY]
    assert redact({"base_url": url}) == {"base_url": f"https://llm.example/v1?model=m&{param}={MASK}&x=1"}
    assert KEY not in scrub_text(f"could not reach {url}")  # even when nobody told us


def test_finding8_an_environment_variable_named_by_the_config_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEARCH_TEST_KEY", KEY)
    config = {"llm_config": {"api_key_env": "DEEPSEARCH_TEST_KEY"}, "search_api_key_env": "UNSET_VARIABLE_X"}
    assert secret_values(config) == [KEY]
    assert redact(config) == config  # the variable's name is no secret


def test_finding9_word_like_and_key_like_secrets() -> None:
    assert is_word_like("battery") and is_word_like("storage") and is_word_like("123456")
    assert is_word_like("grid-scale")
    assert not is_word_like(KEY) or KEY.isalpha()
    assert not is_word_like("abc123") and not is_word_like("a" * 25) and not is_word_like("two words")


@pytest.mark.parametrize(
    "text",
    [
        "What should a utility planner know about grid-scale battery storage?",
        "Battery storage: a primer",
        "https://example.org/grid/battery-storage.html",
        "Batteries (battery, storage) and storage/battery",
        "The battery.",
    ],
)
def test_finding9_a_key_that_is_an_ordinary_word_leaves_prose_and_urls_alone(text: str) -> None:
    assert scrub_text(text, ["battery", "storage"]) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("battery", MASK),  # the whole value of a field
        ("  battery ", f"  {MASK} "),
        ("Invalid key 'battery'.", f"Invalid key '{MASK}'."),
        ('{"api_key": "battery"}', f'{{"api_key": "{MASK}"}}'),
        ("GET /v1?api_key=battery&x=1", f"GET /v1?api_key={MASK}&x=1"),
        ("Authorization: Bearer battery", f"Authorization: Bearer {MASK}"),
        ("Incorrect API key provided: battery. See docs.", f"Incorrect API key provided: {MASK}. See docs."),
        ("token=battery", f"token={MASK}"),
        ("password: battery", f"password: {MASK}"),
    ],
)
def test_finding9_a_word_like_key_is_still_masked_where_it_is_plainly_a_key(text: str, expected: str) -> None:
    assert scrub_text(text, ["battery"]) == expected


@pytest.mark.parametrize(
    "template",
    ["{k}", "key {k} rejected", "({k})", "x={k}", "'{k}'", "{k}.", "[{k}]", "line1\n{k}\nline3", "sk_{k}"],
)
def test_finding9_a_key_like_secret_is_masked_wherever_it_is_a_token(template: str) -> None:
    key = "Zq3" + KEY  # starts with letters, so a glued prefix is tested honestly
    assert key not in scrub_text(template.format(k=key), [key])


def test_finding9_matching_is_by_whole_token_never_inside_a_word() -> None:
    assert scrub_text("abc123def and abc123", ["abc123"]) == f"abc123def and {MASK}"
    assert scrub_text("xabc123", ["abc123"]) == "xabc123"
    assert scrub_text("a-b-c-1", ["-b-c-"]) == f"a{MASK}1"  # a secret edged by symbols has no word edge


def test_finding9_short_secrets_are_never_searched() -> None:
    assert scrub_text("the key abc, abc", ["abc"]) == "the key abc, abc"

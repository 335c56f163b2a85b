"""Text utilities of the local agent: tokens for retrieval, sentences for extractive writing.

Everything here is a pure function of its input, so retrieval and the report are reproducible: no
locale, no hash-ordered sets in any output, no randomness.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = [
    "STOPWORDS",
    "content_terms",
    "jaccard",
    "normalize_space",
    "split_sentences",
    "stem",
    "term_weights",
    "tokenize",
    "word_tokens",
]

# Function words plus question scaffolding ("what should I know about ..."): they carry no topic, and
# counting them would make every question look specific.
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else few for from
    further had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not now of off on once only or other our ours out over own same she should so
    some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    may might must shall us via per within without across among around upon whether yet
    tell know explain describe give overview please want need like get make us really much many
    one two key main things thing lot kind sort report research question questions answer
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) when the next
# sentence starts with an upper-case letter, a digit or an opening quote.
# (The punctuation is matched, not looked behind for, so that the regex engine scans for it instead of
# trying a lookbehind at every character: twice as fast; the sentences are cut around group 1, the
# separator, exactly where ``split`` on the lookbehind form cut them.)
_SENTENCE_END = re.compile(r"[.!?]([\"'”’)\]]?\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Ms.", "Mrs.", "St.", "No.", "approx.")


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace to one space: documents wrap lines, the report does not.

    Text that is already so (most of it: paragraphs are normalized when read, then split into sentences)
    is returned as it is, found by C scans instead of a split and a join: a printable string's only
    whitespace is the ASCII space (tests/agents/test_local_units.py checks every code point).
    """
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def stem(word: str) -> str:
    """A deliberately light English stemmer: plurals only.

    Heavier stemming (Porter) merges unrelated words in a small corpus; plurals are what most often
    separate a question ("costs") from a document ("cost").
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def word_tokens(text: str) -> list[str]:
    """Lower-cased words, stopwords kept (used to measure sentence length)."""
    return _WORD.findall(text.lower())


def tokenize(text: str, memo: dict[str, str] | None = None) -> list[str]:
    """Retrieval terms: lower-cased, stopwords removed, plurals folded, in text order.

    ``memo`` (word -> term, stopwords -> "") makes tokenizing a large corpus several times faster; the
    caller owns it, so no cache outlives the corpus it was built for.
    """
    if memo is None:
        return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    terms = []
    for word in _WORD.findall(text.lower()):
        term = memo.get(word)
        if term is None:
            term = memo[word] = "" if word in STOPWORDS or len(word) < 2 else stem(word)
        if term:
            terms.append(term)
    return terms


def content_terms(text: str) -> list[str]:
    """The distinct retrieval terms of ``text`` in order of first appearance."""
    return list(dict.fromkeys(tokenize(text)))


_PROTECTED = tuple((a + " ", a.replace(".", "\x00") + " ") for a in _ABBREVIATIONS)


def _protect(text: str) -> str:
    for plain, protected in _PROTECTED:  # (``in`` first: a replace that finds nothing still copies nothing,
        if plain in text:  # but builds its arguments; 22 calls a paragraph were a tenth of reading a corpus)
            text = text.replace(plain, protected)
    return text


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences, keeping each sentence's exact text.

    The report quotes sentences verbatim and a citation must point to a document that contains the
    sentence, so nothing is rewritten here except whitespace.
    """
    text = normalize_space(paragraph)
    if not text:
        return []
    protected = _protect(text)
    parts = []
    start = 0
    for end in _SENTENCE_END.finditer(protected):
        parts.append(protected[start : end.start(1)])
        start = end.end(1)
    parts.append(protected[start:])
    if "\x00" in protected:
        return [s for s in (p.replace("\x00", ".").strip() for p in parts) if s]
    return [s for s in map(str.strip, parts) if s]


def term_weights(parts: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Merge weighted texts into one weighted query: a term keeps the highest weight it was given."""
    weights: dict[str, float] = {}
    for text, weight in parts:
        for term in tokenize(text):
            if weight > weights.get(term, 0.0):
                weights[term] = weight
    return weights


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    """Word overlap of two sentences, to keep near-duplicates out of one section."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)

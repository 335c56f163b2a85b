"""The corpus fingerprint: what lets a saved report say *which* documents it was researched from.

A path alone does not make a report reproducible: the files under it change. So the local agent's spec
carries a SHA-256 of each document it read (of the file's bytes, not of the extracted text, so that an edit
the extractor happens to ignore is still seen) and one hash of the whole set. ``reproduce()`` compares the
recorded fingerprint with the corpus as it is now and names the files that changed, appeared or went.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._corpus import Corpus

__all__ = ["corpus_fingerprint", "fingerprint_changes"]

_CHUNK = 1 << 20


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while block := handle.read(_CHUNK):
                digest.update(block)
    except OSError:
        return "unreadable"
    return digest.hexdigest()


def corpus_fingerprint(corpus: Corpus, digests: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``{"sha256": set hash, "documents": {relative path: file sha256}}`` of the documents ``corpus`` read.

    ``digests`` (relative path -> sha256 of the bytes the corpus was read from, see ``read_corpus``) saves
    opening every file again; a document it lacks is hashed from its file.
    """
    known = digests or {}
    documents = {doc.path: known.get(doc.path) or _file_hash(corpus.root / doc.path) for doc in corpus.documents}
    listing = "".join(f"{path}\0{digest}\n" for path, digest in sorted(documents.items()))
    return {"sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest(), "documents": documents}


def fingerprint_changes(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between two fingerprints, one readable line per file (empty when they match)."""
    if recorded.get("sha256") == current.get("sha256"):
        return []
    before = recorded.get("documents") if isinstance(recorded.get("documents"), Mapping) else {}
    after = current.get("documents") if isinstance(current.get("documents"), Mapping) else {}
    assert isinstance(before, Mapping) and isinstance(after, Mapping)
    lines = [f"changed: {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]]
    lines += [f"removed: {p}" for p in sorted(set(before) - set(after))]
    lines += [f"added: {p}" for p in sorted(set(after) - set(before))]
    return lines or ["the set of documents differs (no single file named)"]

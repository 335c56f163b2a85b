"""The file the openJiuwen SDK loads as its ``custom`` web-search engine (see :mod:`._search`).

The SDK executes this file as a fresh module every round and looks up ``CorpusSearch`` in it; the
class lives in the package so that the corpus index is built once per process.
"""

from deepsearch_nb._agents._sdk._search import CorpusSearch

__all__ = ["CorpusSearch"]

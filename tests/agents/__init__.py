"""Tests of the embedded offline research agent (deepsearch_nb._agents._local)."""

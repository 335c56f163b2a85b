"""Panel beside our stream view in `bench stream`, at a small size: shape only (figures are printed)."""

from __future__ import annotations

import pytest

from deepsearch_nb.bench._panel_peers import panel_bytes
from deepsearch_nb.bench._stream import LABELS

pytest.importorskip("panel")


@pytest.mark.parametrize(("kind", "paced"), [("markdown", False), ("markdown", True), ("chatfeed", False)])
def test_panel_streams_through_recorded_notebook_comms(kind: str, paced: bool) -> None:
    nbytes = panel_bytes(kind, 20, 50, paced=paced)
    assert nbytes > 20 * 50  # every chunk's text went out, with its envelopes


def test_panel_figures_have_labels() -> None:
    assert {"panel_md_bytes_ratio", "panel_md_bytes_ratio_paced", "panel_chatfeed_bytes_ratio"} <= set(LABELS)

"""Issue 18: the SDK agent researches the notebook's own data through its custom search engine.

The SDK calls ``CorpusSearch(**engine_config).aresults(query)`` with the ``extension`` the agent's config
carries; these tests make that call the way the SDK does, without importing the SDK.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from deepsearch_nb import ConfigurationError, OpenJiuwenAgent, frame
from deepsearch_nb._agents._sdk._search import CorpusSearch

URL = "http://127.0.0.1:9/v1"


async def test_the_sdk_search_engine_finds_rows_by_their_reference() -> None:
    df = pd.DataFrame({"answer": [f"Customer {i} liked the billing page." for i in range(300)]}, index=range(100, 400))
    df.loc[250, "answer"] = "The flux capacitor overheated in the warehouse at night."
    agent = OpenJiuwenAgent(base_url=URL, model="m", api_key_env=None, sources=[frame(df, name="df"), "Some notes."])
    plugin = agent._plugin()
    assert plugin is not None
    engine = CorpusSearch(extension={"corpus_key": plugin[2]}, max_web_search_results=3)
    hits = await engine.aresults("flux capacitor overheated")
    assert hits[0]["url"] == "df.loc[250]" and "flux capacitor" in hits[0]["content"]
    config = agent.spec()["config"]
    assert config["sources"] == ["df (300 rows)", "sources[1]"]
    assert config["corpus"] == "sources: df (300 rows), sources[1]"


def test_sources_exclude_a_web_engine_or_a_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVILY_TEST_KEY", "k" * 24)
    with pytest.raises(ConfigurationError, match="sources= is searched instead of corpus= or a web engine"):
        OpenJiuwenAgent(
            base_url=URL,
            model="m",
            api_key_env=None,
            search="tavily",
            search_api_key_env="TAVILY_TEST_KEY",
            sources=["Some notes here."],
        )
    (tmp_path / "a.md").write_text("# A\n\nSome text here.\n")
    with pytest.raises(ConfigurationError, match="sources= is searched instead of corpus="):
        OpenJiuwenAgent(base_url=URL, model="m", api_key_env=None, corpus=tmp_path, sources=["Some notes here."])

"""``deepsearch-nb serve``: the run API under uvicorn, one or several worker processes sharing a Redis.

The parent process checks everything it can before any worker starts (a token for a non-loopback
address, Redis reachable, the agent's configuration, ``--workers`` > 1 only with ``--redis``) and says
what to fix; the workers are uvicorn processes that each build their app from :func:`app_from_env`
(the options travel in ``DEEPSEARCH_NB_SERVE`` as JSON, the token in ``DEEPSEARCH_NB_TOKEN``; neither
goes to a log). Each worker logs which round of which conversation it served.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError
from ._auth import check_exposure

if TYPE_CHECKING:
    from ..agents import Agent
    from ._request import DeepSearchRequest

# The app's modules (FastAPI, Redis) are imported where they are used: the CLI imports this module for
# its options, and must start without the server extra.

__all__ = ["CONFIG_ENV", "TOKEN_ENV", "add_arguments", "app_from_env", "serve"]

CONFIG_ENV = "DEEPSEARCH_NB_SERVE"
TOKEN_ENV = "DEEPSEARCH_NB_TOKEN"
_log = logging.getLogger("deepsearch_nb.server")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``deepsearch-nb serve``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (more than 1 needs --redis)")
    parser.add_argument("--redis", metavar="URL", help="Redis shared by the workers, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--agent", choices=("local", "sdk"), default="local", help="local (default) or sdk")
    parser.add_argument("--corpus", help="a folder of documents (default: the demo corpus)")
    parser.add_argument("--pacing", type=float, default=0.0, help="local agent: seconds per streamed token")
    parser.add_argument("--llm-base-url", help="sdk agent: an OpenAI-compatible endpoint")
    parser.add_argument("--llm-model", help="sdk agent: the model name")
    parser.add_argument("--llm-api-key-env", help="sdk agent: the variable holding the LLM key (OPENAI_API_KEY)")
    parser.add_argument("--search", help="sdk agent: 'corpus' (default) or a web engine")
    parser.add_argument("--token", help=f"the bearer token every request must carry (or set {TOKEN_ENV})")
    parser.add_argument("--session-ttl", type=float, default=7200.0, help="seconds a paused conversation is kept")
    parser.add_argument("--hitl-capacity", type=int, default=100, help="paused conversations kept, all workers")
    parser.add_argument(
        "--template-db",
        metavar="URL",
        help="SQLAlchemy URL of the report templates (default: sqlite file .deepsearch/server/templates.sqlite3, "
        "or $DEEPSEARCH_NB_TEMPLATE_DB)",
    )
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))


def _config(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "agent": args.agent,
        "corpus": args.corpus,
        "pacing": args.pacing,
        "llm_base_url": args.llm_base_url,
        "llm_model": args.llm_model,
        "llm_api_key_env": args.llm_api_key_env,
        "search": args.search,
        "redis": args.redis,
        "session_ttl": args.session_ttl,
        "hitl_capacity": args.hitl_capacity,
        "log_level": args.log_level,
        "template_db": getattr(args, "template_db", None),
    }


def _check(config: dict[str, Any], host: str, workers: int, token: str | None) -> None:
    check_exposure(host, token)
    if workers < 1:
        raise ConfigurationError(f"--workers must be 1 or more, not {workers}.")
    if workers > 1 and not config["redis"]:
        raise ConfigurationError(
            "--workers > 1 needs --redis URL: without a shared Redis a cancel or an answer that lands on another "
            "worker than the one holding the run would not find it."
        )
    if config["session_ttl"] <= 0 or config["hitl_capacity"] < 1:
        raise ConfigurationError("--session-ttl must be > 0 seconds and --hitl-capacity at least 1.")
    if config["redis"]:
        _ping(config["redis"])
    if config["template_db"]:
        from ._templates import TemplateStore

        TemplateStore(config["template_db"])  # a malformed URL fails here, before any worker
    _build_agent(config, sessions=None)  # a bad corpus or LLM option fails here, before any worker


def _ping(url: str) -> None:
    from ._shared import safe_url

    try:
        import redis
    except ImportError:
        raise ConfigurationError(
            "--redis needs the redis package: pip install 'deepsearch-nb[redis,server]'."
        ) from None
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:
        raise ConfigurationError(
            f"Cannot reach Redis at {safe_url(url)} ({type(exc).__name__}): start it first "
            "(redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no) or pass the right --redis URL."
        ) from None
    finally:
        client.close()


def _build_agent(config: dict[str, Any], sessions: Any) -> Agent:
    if config["agent"] == "local":
        from .._agents._local import LocalResearchAgent

        return LocalResearchAgent(config["corpus"], pacing=config["pacing"], sessions=sessions)
    from .._agents._select import make_agent

    return make_agent(
        "sdk",
        corpus=config["corpus"],
        llm_base_url=config["llm_base_url"],
        llm_model=config["llm_model"],
        llm_api_key_env=config["llm_api_key_env"],
        search=config["search"],
    )


def app_from_env() -> Any:
    """The app of one worker process, from what :func:`serve` put in the environment (uvicorn's factory)."""
    from ._app import create_app, default_worker_id
    from ._shared import Shared

    config = json.loads(os.environ[CONFIG_ENV])
    token = os.environ.get(TOKEN_ENV) or None
    _configure_logging(config["log_level"])
    worker = default_worker_id()
    shared = None
    if config["redis"]:
        shared = Shared(config["redis"], worker=worker, ttl_s=config["session_ttl"], capacity=config["hitl_capacity"])
    agent = _build_agent(config, sessions=None if shared is None else shared.sessions)
    # The corpus index is a large, long-lived heap: keep it out of the garbage collector's full passes,
    # which otherwise stall every stream of the worker for a few hundred ms now and then under load.
    gc.collect()
    gc.freeze()

    def factory(request: DeepSearchRequest) -> Agent:
        return agent

    return create_app(factory, shared=shared, token=token, worker_id=worker, templates=config.get("template_db"))


def _configure_logging(level: str) -> None:
    logger = logging.getLogger("deepsearch_nb")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


def serve(args: argparse.Namespace) -> int:
    """Check the options, then run uvicorn until it is stopped (Ctrl+C or SIGTERM)."""
    try:
        import uvicorn
    except ImportError:
        raise ConfigurationError(
            "deepsearch-nb serve needs the server extra: pip install 'deepsearch-nb[server]'."
        ) from None
    token = args.token or os.environ.get(TOKEN_ENV) or None
    config = _config(args)
    _check(config, args.host, args.workers, token)
    os.environ[CONFIG_ENV] = json.dumps(config)
    if token:
        os.environ[TOKEN_ENV] = token
    else:
        os.environ.pop(TOKEN_ENV, None)
    from ._shared import safe_url

    sys.stderr.write(
        f"deepsearch-nb serve: http://{args.host}:{args.port} ({args.workers} worker(s), agent {args.agent}, "
        f"redis {safe_url(args.redis) if args.redis else 'none'}, token {'required' if token else 'none'})\n"
    )
    sys.stderr.flush()
    uvicorn.run(
        "deepsearch_nb.server._serve:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        timeout_graceful_shutdown=10,
    )
    return 0

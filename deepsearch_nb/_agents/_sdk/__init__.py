"""The real openJiuwen DeepSearch SDK as an :class:`Agent` (``pip install 'deepsearch-nb[sdk]'``).

:class:`OpenJiuwenAgent` is the adapter (``_agent``); ``_settings`` turns what a person configures into
the SDK's ``agent_config``; ``_loader`` imports the SDK once per process with its logs redirected
(:func:`sdk_log_dir`) and manages the SDK internals the adapter must (stores, cached model clients);
``_search`` offers the project's local document search as the SDK's ``custom`` web-search engine.
"""

from ._agent import KIND, OpenJiuwenAgent
from ._loader import LOG_DIR_ENV, sdk_log_dir

__all__ = ["KIND", "LOG_DIR_ENV", "OpenJiuwenAgent", "sdk_log_dir"]

"""Layer 2, the agents: the ``Agent`` seam (``_base``) and its adapters (``_local``, ``_sdk``, ``_remote``,
``_replay``). Their public names are listed once, in :mod:`deepsearch_nb.agents`."""

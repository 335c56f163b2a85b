"""Layer 3, the runtime: the run manager (the kernel's port of the DeepSearch run router), run records,
events, cancel buses, and the session driver that answers a run's questions. No widgets, no IPython.

Its public names are listed once, in :mod:`deepsearch_nb.runtime`; inside the package, modules import the
submodule where a name lives.
"""

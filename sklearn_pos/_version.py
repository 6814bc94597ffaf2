"""The version of sklearn_pos, in a module that imports nothing.

Modules that record the version (saved subspaces, job manifests) import it from
here rather than from the package, whose ``__init__`` imports them.
"""

__version__ = "0.1.0.dev0"

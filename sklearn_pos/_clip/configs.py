"""The architecture configs of open_clip that sklearn_pos ships, and their registration.

``sklearn_pos/_model_configs`` holds the configs of architectures that open_clip
does not know (the tiny random model of the tests and examples). They are added
to open_clip's registry once per process, under this module's lock.
"""

import importlib.util
import os
import threading
from pathlib import Path

TINY_MODEL_NAME = "sklearn-pos-tiny"
"""Name of the small open_clip architecture that ships with sklearn_pos."""

CONFIG_DIR = Path(__file__).resolve().parent.parent / "_model_configs"

# Registration changes open_clip's process-wide registry: once, by one thread.
_LOCK = threading.Lock()
_REGISTERED = False


def register_bundled_configs():
    """Make the architectures in ``sklearn_pos/_model_configs`` known to open_clip."""
    global _REGISTERED
    if _REGISTERED:
        return
    import open_clip

    with _LOCK:
        if not _REGISTERED:
            if TINY_MODEL_NAME not in open_clip.list_models():
                open_clip.add_model_config(CONFIG_DIR)
            _REGISTERED = True


def config_folders():
    """Where architecture configs come from: sklearn_pos's, then open_clip's.

    Found without importing open_clip (nor torch).
    """
    folders = [str(CONFIG_DIR)]
    spec = importlib.util.find_spec("open_clip")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            folders.append(os.path.join(location, "model_configs"))
    return folders

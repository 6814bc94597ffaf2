"""pytest configuration of the whole repository, loaded before anything else.

SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported, and
scikit-learn's ``array_api_dispatch`` refuses to start without it. This file
is loaded by pytest before the test modules and their conftest files import
scipy, so setting the variable here lets the Array API tests (and
scikit-learn's own Array API estimator checks) run under a plain ``pytest``.
A value set in the environment is kept.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

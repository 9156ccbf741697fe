"""The provider suites' fixtures. They and the helpers the tests import live in
``providers_helpers``, a module name no other folder's conftest.py shares, so that
running several test folders in one command cannot hand a test another folder's helpers."""

from providers_helpers import *  # noqa: F403  (pytest finds the fixtures in this namespace)
from providers_helpers import _fresh_limiters  # noqa: F401  (autouse)

"""The AppTest suites' fixtures. They and the helpers the tests import live in
``ui_helpers``, a module name no other folder's conftest.py shares, so that running
several test folders in one command cannot hand a test another folder's helpers."""

from ui_helpers import *  # noqa: F403  (pytest finds the fixtures in this namespace)

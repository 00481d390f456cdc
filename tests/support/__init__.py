"""Shared test helpers: plain functions and classes, no pytest fixtures (those live in the
conftest.py files, which may import from here). Test modules import helpers from here and from
tests.fakes, never from another test module or a conftest (tests/test_suite_layout.py)."""

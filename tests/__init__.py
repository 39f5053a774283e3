"""The test suite: a package, so its helpers are imported one way, `from tests.support import ...`."""

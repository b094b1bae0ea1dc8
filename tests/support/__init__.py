"""Helpers shared by the test suites: a recording fake upstream and a service runner."""

"""The corpus harness: build, import, serve and exercise real specs (`python -m tests.corpus`)."""

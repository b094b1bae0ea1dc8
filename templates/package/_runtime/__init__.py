"""capgen's run-time library, vendored into every generated package.

Part of capgen, copied verbatim: do not edit here; changes belong in capgen's templates.
"""

"""Authentication: inbound (callers of the adapters) and outbound (the consumed APIs)."""

"""Upstream HTTP: the request a consumed operation implies, and sending it (pooled, bounded,
retried) through aiohttp under an httpx-shaped client."""

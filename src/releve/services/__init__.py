"""Use cases: each owns one unit of work (one commit) and talks to ports, never to adapters."""

"""The pure rating and billing core: standard library only, no I/O (design.md §2).

Every rule that turns usage into money lives here so it can be tested exhaustively in
milliseconds, and so the API, the CLI, the portal and simulations all price the same way.
"""

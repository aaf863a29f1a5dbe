"""The application layer: what the command line and the server both do.

A service takes a store (or a location), plain parameters, an ``Audience`` where who may see
what matters, and an optional progress callback; it returns a result object and raises
``SafeGroundError`` with a message a user can act on. It never prints, never parses command-line
options and never knows about HTTP: ``cli/`` and ``web/`` are thin adapters that parse, call one
service and render its result. Orchestration (open, read, compute, write, register) lives here
once, so the two front-ends cannot drift apart.
"""

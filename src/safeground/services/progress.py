"""How a service tells its caller how far it has got, without knowing who is watching.

The command line draws a rich progress bar on standard error, the server may push the same
events to a browser, a test passes nothing. A service calls ``progress(what, done, total)``:
``what`` is the step a field officer would recognise ("assessing records"), ``done`` of
``total`` units are finished (``total`` 0 when the size of the step is not known). A step
announced with ``done == 0`` starts it; the caller decides whether and how to show it.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]  # what, done, total (the risk pipeline's Step has the same shape)


def no_progress(_what: str, _done: int, _total: int) -> None:
    """The callback used when nobody watches."""
    return None

"""Where SafeGround's figures are made: off-screen, by matplotlib's Agg renderer, never through pyplot.

Every chart, map and page SafeGround draws (reports, the district map, the village map,
the dossier, the forecast fan) is written to a file or embedded in one; none is shown on a
screen. Five modules used to call ``matplotlib.use("Agg")`` when they were imported: the first
import of a report module switched the backend of the whole process, including a user's
notebook or a program that embeds SafeGround, and a figure made before that import went to
whatever backend matplotlib had picked.

Here a figure is a plain :class:`matplotlib.figure.Figure` with its own Agg canvas, so no
backend is ever selected and nothing is global: pyplot's list of open figures never holds
one (nothing to ``close``, nothing to leak in a long-running server), and two threads can
draw at once, which pyplot does not allow (matplotlib's own advice for web servers). The
pixels are the same as pyplot's with the Agg backend: the same renderer and the same
``rcParams`` defaults.

Lives at the top of the package, beside ``tabular`` (the one CSV/XLSX writer), because both
``reports`` and ``landrelease`` draw, and ``reports`` imports ``landrelease``.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(**kwargs: Any) -> Figure:
    """An empty figure drawn by Agg (``figsize``, ``dpi``… as for :class:`~matplotlib.figure.Figure`).

    Its canvas can measure text before anything is saved (``fig.canvas.get_renderer()``), which
    the village map needs to lay out its labels.
    """
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def subplots(
    nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None, **kwargs: Any
) -> tuple[Figure, Any]:
    """``(figure, axes)`` as ``pyplot.subplots`` gives them, on a figure from :func:`new_figure`.

    ``axes`` is one Axes for a single plot and an array of them otherwise (``kwargs`` go to
    :meth:`~matplotlib.figure.Figure.subplots`: ``sharex``, ``gridspec_kw``…).
    """
    fig = new_figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)

"""Matplotlib backend of calculations (MPLBACKEND=module://glaux_runner.mplbackend).

It renders with Agg; plt.show() publishes every open figure as image/png display data
instead of opening a window (or warning that Agg cannot show)."""

from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401

from .shell import publish_figures


def show(*args, **kwargs):
    publish_figures()

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from companion import plotting


def test_plot_history_draws_one_line_per_key():
    ax = plotting.plot_history({"loss": [3, 2, 1], "acc": [0.1, 0.5, 0.9]})
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])


def test_bar_with_errors_and_image_grid():
    ax = plotting.bar_with_errors(["a", "b"], [0.5, 0.7], [0.1, 0.0])
    assert [round(p.get_height(), 2) for p in ax.patches] == [0.5, 0.7]
    fig = plotting.image_grid([np.zeros((4, 4)), np.ones((4, 4, 3))], titles=["x", "y"], ncols=2)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "y"
    with pytest.raises(ValueError, match="at least one image"):
        plotting.image_grid([])

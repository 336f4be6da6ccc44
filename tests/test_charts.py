"""Chart axes: scaled to the data and the 80 % bands; a 95 % band reaching beyond is cut and its top
written on the chart (the front page's headline chart and the forecasts chapter's outlook chart)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from xjtrade.report import figures as xf  # noqa: E402
from xjtrade.report import outlook as xo  # noqa: E402


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_outlook_chart_axis_follows_the_80_bands_and_names_the_cut_95_band():
    est = pd.DataFrame({"year": [2021, 2022, 2023], "value": [100.0, 150.0, 200.0]})
    annual = pd.DataFrame({"year": [2024, 2025], "point": [220.0, 240.0], "lo80": [180.0, 170.0],
                           "hi80": [260.0, 300.0], "lo95": [160.0, 140.0], "hi95": [290.0, 1180.0]})
    fig = xo.outlook_chart(est, annual, "CNY", "t", "s")
    ax = fig.axes[0]
    assert ax.get_ylim() == pytest.approx((0.0, 1.12 * 300.0))
    assert _texts(fig) == ["95% interval of 2025 up to 1,180 \u2191"]


def test_outlook_chart_without_a_cut_band_writes_nothing():
    est = pd.DataFrame({"year": [2022, 2023], "value": [100.0, 120.0]})
    annual = pd.DataFrame({"year": [2024], "point": [130.0], "lo80": [115.0], "hi80": [145.0],
                           "lo95": [105.0], "hi95": [160.0]})
    fig = xo.outlook_chart(est, annual, "CNY", "t", "s")
    assert fig.axes[0].get_ylim()[1] == pytest.approx(1.12 * 145.0)
    assert _texts(fig) == []


def test_headline_axis_and_cut_band():
    history = pd.DataFrame({"year": [2020, 2021, 2022, 2023], "value": [100.0, 110.0, 150.0, 200.0],
                            "origin": ["reported", "reported", "derived", "reported"]})
    outlook = {"years": [2024, 2025], "point": [220.0, 240.0],
               "intervals": {"80": [(180.0, 260.0), (170.0, 300.0)], "95": [(160.0, 290.0), (140.0, 1180.0)]}}
    fig = xf.headline(history, "CNY", "t", "s", outlook=outlook)
    assert fig.axes[0].get_ylim() == pytest.approx((0.0, 1.12 * 300.0))
    assert [t for t in _texts(fig) if "interval" in t] == ["95% interval of 2025 up to 1,180 \u2191"]

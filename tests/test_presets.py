"""Every preset is a clean link and tells the story it claims."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

import optimizers
from descent_lab.presets import PRESETS
from descent_lab.setup import from_query


def outcomes(key, tol=0.05):
    setup = PRESETS[key].setup()
    s = setup.make_surface()
    out = []
    for r in setup.runs:
        tr = optimizers.run(r.optimizer(), s, start=setup.start_point(), steps=setup.steps)
        out.append((tr, optimizers.outcome(tr, s, tol)))
    return out


@pytest.mark.parametrize("key", PRESETS)
def test_preset_link_parses_cleanly(key):
    p = PRESETS[key]
    query = dict(parse_qsl(urlsplit(p.link()).query))
    setup, problems = from_query(query)
    assert problems == [] and setup == p.setup()


def test_learning_rate_preset():
    (_small, o1), (_good, o2), (large, o3) = outcomes("learning-rate")
    assert o1.reached_at == -1 and o1.diverged_at == -1  # too small: still on its way
    assert o2.reached_at >= 0  # just right
    assert o3.diverged_at >= 0 or np.abs(large.path[-1]).max() > np.abs(large.path[0]).max()


def test_local_minima_preset():
    (_, gd), (_, mom) = outcomes("local-minima")
    assert gd.nearest != 0 and gd.reached_at >= 0  # stuck in a shallow well
    assert mom.nearest == 0 and mom.reached_at >= 0  # the global minimum


def test_one_rate_preset():
    (_, gd), (_, rms), (_, adam) = outcomes("one-rate")
    assert gd.reached_at == -1 and gd.diverged_at == -1
    assert rms.distance < gd.distance and adam.distance < gd.distance


def test_ravine_and_nesterov_presets():
    (gd_tr, _), (_mom_tr, mom) = outcomes("ravine")
    assert mom.distance < np.linalg.norm(gd_tr.path[-1])
    (m_tr, _), (n_tr, _) = outcomes("nesterov")
    # oscillation across the valley: sign changes of y
    flips = [int(np.sum(np.diff(np.sign(t.path[:, 1])) != 0)) for t in (m_tr, n_tr)]
    assert flips[1] < flips[0]


def test_saddle_preset():
    """Each run leaves the saddle within the preset's steps; momentum and Adam sooner than GD."""
    (gd_tr, _), (mom_tr, _), (adam_tr, _) = outcomes("saddle")

    def escape(tr):  # the first step with |x| > 0.5
        (away,) = np.nonzero(np.abs(tr.path[:, 0]) > 0.5)
        assert away.size, f"{tr.optimizer.name} never left the saddle"
        return int(away[0])

    assert escape(mom_tr) < escape(gd_tr) and escape(adam_tr) < escape(gd_tr)


def test_adagrad_fades_preset():
    (ada, _), (rms, _) = outcomes("adagrad-fades")
    assert np.all(np.diff(ada.effective_lr, axis=0) <= 0)
    assert ada.effective_lr[-1].max() < rms.effective_lr[-1].min()

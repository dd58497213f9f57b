"""Counter-based subject draws: shard-independent, keyed by name, standard normal."""

import numpy as np
from scipy import stats

from eihlab._random import standard_normals, stream_key


def test_a_subjects_draws_do_not_depend_on_the_other_subjects() -> None:
    whole = standard_normals(11, np.arange(1000), "s", 4)
    part = standard_normals(11, np.array([999, 3, 500]), "s", 4)
    assert np.array_equal(part, whole[[999, 3, 500]])


def test_streams_are_keyed_by_name_not_position() -> None:
    both = standard_normals(5, np.arange(50), ["a", "b"])
    assert np.array_equal(both[:, 1], standard_normals(5, np.arange(50), "b")[:, 0])
    assert np.array_equal(both[:, 0], standard_normals(5, np.arange(50), ["x", "a"])[:, 1])
    assert stream_key("a") != stream_key("b")


def test_draws_are_independent_standard_normals() -> None:
    z = standard_normals(3, np.arange(20_000), ["p", "q"], 3)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    corr = np.corrcoef(z.T)
    off_diagonal = corr[~np.eye(corr.shape[0], dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 0.03  # 4.2 standard errors at n = 20,000
    neighbours = np.corrcoef(z[:-1, 0], z[1:, 0])[0, 1]  # consecutive subject ids
    assert abs(neighbours) < 0.03
    assert not np.array_equal(standard_normals(3, np.arange(10), "p"), standard_normals(4, np.arange(10), "p"))

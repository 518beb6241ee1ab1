import numpy as np
import pandas as pd
import pytest

from leadml.modeling.drift import DriftProfile, population_stability_index


def _frame(rng, n, shift=0.0):
    return pd.DataFrame(
        {
            "n_pricing_view_30d": rng.poisson(0.5 + shift, n).astype(float),
            "employees": rng.lognormal(5 + shift, 1, n),
            "source": pd.Categorical(rng.choice(["referral", "paid_search", "webinar"], n)),
        }
    )


def test_psi_of_identical_shares_is_zero_and_known_value_otherwise():
    assert population_stability_index([0.5, 0.5], [0.5, 0.5]) == pytest.approx(0.0)
    expected = (0.7 - 0.5) * np.log(0.7 / 0.5) + (0.3 - 0.5) * np.log(0.3 / 0.5)
    assert population_stability_index([0.5, 0.5], [0.7, 0.3]) == pytest.approx(expected)


def test_same_population_is_stable_and_shifted_population_is_flagged():
    rng = np.random.default_rng(1)
    train = _frame(rng, 50_000)
    profile = DriftProfile.from_training(train, rng.random(50_000))
    same = profile.compare(_frame(rng, 20_000), rng.random(20_000))
    assert same["flagged"] == []
    assert max(same["features"].values()) < 0.01
    shifted = profile.compare(_frame(rng, 20_000, shift=1.0), rng.random(20_000) ** 3)
    assert set(shifted["flagged"]) == {"n_pricing_view_30d", "employees"}
    assert shifted["score_psi"] > 0.2


def test_counts_add_up_across_partitions():
    rng = np.random.default_rng(2)
    train = _frame(rng, 20_000)
    profile = DriftProfile.from_training(train, rng.random(20_000))
    batch, scores = _frame(rng, 10_000, shift=0.3), rng.random(10_000)
    whole = profile.compare(batch, scores)
    halves = [
        profile.counts(batch.iloc[:4000], scores[:4000]),
        profile.counts(batch.iloc[4000:], scores[4000:]),
    ]
    summed = {k: halves[0][k] + halves[1][k] for k in halves[0]}
    split = profile.compare_counts(summed)
    assert split["features"] == pytest.approx(whole["features"], rel=1e-3)


def test_profile_round_trips_through_json_types():
    rng = np.random.default_rng(3)
    profile = DriftProfile.from_training(_frame(rng, 1000), rng.random(1000))
    again = DriftProfile.from_dict(profile.to_dict())
    batch = _frame(rng, 500)
    assert again.compare(batch, rng.random(500))["features"] == pytest.approx(
        profile.compare(batch, rng.random(500))["features"]
    )


def test_edges_fall_between_values_so_float_noise_on_ties_keeps_its_bin():
    cold = 0.0025317555056304  # the score most leads share
    scores = np.r_[np.full(850, cold), np.linspace(0.003, 0.2, 150)]
    X = pd.DataFrame({"x": scores})
    profile = DriftProfile.from_training(X, scores)
    edges = profile.bins["__score__"]["edges"]
    assert all(abs(e - cold) > 1e-6 for e in edges)
    noisy = np.where(scores == cold, np.nextafter(cold, 1.0), scores)  # one ulp off
    drift = profile.compare(pd.DataFrame({"x": noisy}), noisy)
    assert drift["score_psi"] < 1e-9 and drift["features"]["x"] < 1e-9

"""FastTreeExplainer must reproduce LightGBM's pred_contrib on every row and column."""

from __future__ import annotations

import re

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from conftest import BANK_CSV

from leadml.trees import _treeshap
from leadml.trees.fastshap import FastTreeExplainer, _feature_major_matrix, tree_contributions

TOLERANCE = 1e-9


def _max_abs_diff(booster: lgb.Booster, X: pd.DataFrame | np.ndarray, **kwargs) -> float:
    """Largest difference to pred_contrib, after checking both ways of explaining agree to the bit."""
    expected = booster.predict(X, pred_contrib=True)
    explainer = FastTreeExplainer(booster)
    got = explainer.shap_values(X, method="patterns", **kwargs)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(explainer.shap_values(X, method="rows", **kwargs), got)
    return float(np.max(np.abs(got - expected)))


def _numeric_data(
    n: int, n_features: int, seed: int, nan_rate: float = 0.0, zero_rate: float = 0.3
):
    """Mixed continuous, integer-count and mostly-zero columns with a nonlinear target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    X[:, ::3] = rng.poisson(1.0, size=(n, len(range(0, n_features, 3))))
    X[rng.random((n, n_features)) < zero_rate] = 0.0
    logit = X[:, 0] * X[:, 1] - np.abs(X[:, 2]) + np.sin(3 * X[:, 3]) + 0.5 * X[:, 4 % n_features]
    if nan_rate:
        X[rng.random((n, n_features)) < nan_rate] = np.nan
    return X, logit


def _train(X, y, params: dict, rounds: int, **dataset_kwargs) -> lgb.Booster:
    base = {"verbose": -1, "min_data_in_leaf": 5, "learning_rate": 0.2, "num_threads": 2, "seed": 1}
    return lgb.train(
        {**base, **params}, lgb.Dataset(X, y, **dataset_kwargs), num_boost_round=rounds
    )


def _rows_on_thresholds(booster: lgb.Booster, X: np.ndarray, seed: int) -> np.ndarray:
    """Rows whose values sit exactly on split thresholds, plus tiny and signed zeros."""
    rng = np.random.default_rng(seed)
    rows = X[rng.integers(0, len(X), size=200)].copy()
    for tree in booster.dump_model()["tree_info"][:20]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" not in node:
                continue
            if node["decision_type"] == "<=":
                rows[rng.integers(0, len(rows)), node["split_feature"]] = node["threshold"]
            stack.extend((node["left_child"], node["right_child"]))
    rows[:5, :] = 1e-40
    rows[5:10, :] = -0.0
    return rows


@pytest.mark.parametrize(
    ("objective", "max_depth", "num_leaves"),
    [
        ("regression", 2, 4),
        ("binary", 3, 8),
        ("binary", 6, 31),
        ("regression", 12, 63),
        ("binary", -1, 63),
    ],
)
def test_numeric_splits_with_nan_match_pred_contrib(objective, max_depth, num_leaves):
    X, logit = _numeric_data(3000, 8, seed=max_depth + num_leaves, nan_rate=0.05)
    y = (logit > 0).astype(float) if objective == "binary" else logit
    booster = _train(
        X, y, {"objective": objective, "max_depth": max_depth, "num_leaves": num_leaves}, 25
    )
    assert _max_abs_diff(booster, X[:500]) <= TOLERANCE
    assert _max_abs_diff(booster, _rows_on_thresholds(booster, X, seed=3)) <= TOLERANCE


def test_zero_as_missing_matches_pred_contrib():
    X, logit = _numeric_data(3000, 6, seed=7, nan_rate=0.05, zero_rate=0.4)
    booster = _train(
        X, logit, {"objective": "regression", "num_leaves": 31, "zero_as_missing": True}, 25
    )
    assert "Zero" in set(_missing_types(booster))
    assert _max_abs_diff(booster, X[:500]) <= TOLERANCE
    assert _max_abs_diff(booster, _rows_on_thresholds(booster, X, seed=4)) <= TOLERANCE


def test_use_missing_false_reads_nan_as_zero_like_lightgbm():
    X, logit = _numeric_data(3000, 6, seed=8, nan_rate=0.1)
    booster = _train(
        X, (logit > 0).astype(float), {"objective": "binary", "use_missing": False}, 25
    )
    assert set(_missing_types(booster)) == {"None"}
    assert _max_abs_diff(booster, X[:500]) <= TOLERANCE


def _missing_types(booster: lgb.Booster) -> list[str]:
    found = []
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                found.append(node["missing_type"])
                stack.extend((node["left_child"], node["right_child"]))
    return found


def categorical_numpy_model() -> tuple[lgb.Booster, np.ndarray, np.ndarray]:
    """A model with numpy categorical columns, its rows, and rows with odd category codes."""
    rng = np.random.default_rng(11)
    n = 4000
    X = np.column_stack(
        [rng.integers(0, 40, n), rng.integers(0, 5, n), rng.normal(size=(n, 3))]
    ).astype(float)
    y = (
        np.isin(X[:, 0], [1, 3, 7, 11, 20, 33]) * 1.0
        + (X[:, 1] == 2)
        + X[:, 2]
        + rng.normal(size=n) * 0.1
    )
    X[rng.random((n, 5)) < 0.05] = np.nan
    booster = _train(X, y, {"objective": "regression", "num_leaves": 31, "max_cat_to_onehot": 4}, 30,
                     categorical_feature=[0, 1])  # fmt: skip
    # Fractions truncate, negatives, NaN and values past int32 go right.
    odd = X[:12].copy()
    odd[:, 0] = [-0.5, 2.7, 3.0, 3.999, -1.0, -7.0, np.nan, 2**31, 2**31 - 1, 1e300, -1e300, 63.0]
    odd[:, 1] = [0.2, -0.2, np.inf, -np.inf, 4.0, 1.5, np.nan, 2.0, 2.99, 100.0, 5.0, 0.0]
    return booster, X, odd


def pandas_category_model() -> tuple[lgb.Booster, pd.DataFrame]:
    """A model with pandas category columns, and rows with missing, unseen and reordered levels."""
    rng = np.random.default_rng(12)
    n = 4000
    frame = pd.DataFrame(
        {
            "industry": pd.Categorical(rng.choice(list("abcdefghij"), n)),
            "source": pd.Categorical(rng.choice(["web", "event", "referral"], n)),
            "visits": rng.poisson(0.5, n).astype(float),
            "employees": rng.lognormal(3, 1, n),
        }
    )
    y = (
        frame["industry"].isin(["a", "c", "f"]) + (frame["source"] == "web") + 0.2 * frame["visits"]
    ).to_numpy()
    booster = _train(
        frame, (y + rng.normal(0, 0.5, n) > 1).astype(float), {"objective": "binary"}, 30
    )
    scoring = frame.iloc[:500].copy()
    scoring.loc[scoring.index[:20], "industry"] = np.nan
    # Unseen levels and a different category order are remapped to training codes.
    scoring["source"] = pd.Categorical(
        np.where(np.arange(500) < 10, "podcast", scoring["source"].astype(str)),
        categories=["web", "podcast", "referral", "event"],
    )
    return booster, scoring


def test_categorical_numpy_columns_follow_lightgbm_casting_rules():
    booster, X, odd = categorical_numpy_model()
    assert _max_abs_diff(booster, X[:500]) <= TOLERANCE
    assert _max_abs_diff(booster, odd) <= TOLERANCE


def test_pandas_category_columns_with_missing_and_unseen_levels_match_pred_contrib():
    booster, scoring = pandas_category_model()
    assert _max_abs_diff(booster, scoring) <= TOLERANCE


def test_single_leaf_trees_only_add_the_expected_value():
    X, logit = _numeric_data(500, 4, seed=13)
    constant = _train(X, np.full(500, 2.5), {"objective": "regression"}, 5)
    values = FastTreeExplainer(constant).shap_values(X[:50])
    np.testing.assert_allclose(values[:, :-1], 0.0)
    np.testing.assert_allclose(
        values[:, -1], constant.predict(X[:50], pred_contrib=True)[:, -1], atol=TOLERANCE
    )
    # LightGBM stops boosting at the first unsplittable round, so a single-leaf
    # tree between others is written into the text model by hand.
    grown = _train(X, logit, {"objective": "regression"}, 4)
    blocks = re.sub(r"tree_sizes=.*\n", "", grown.model_to_string()).split("\nTree=")
    blocks[2] = (
        "1\nnum_leaves=1\nnum_cat=0\nleaf_value=0.25\nleaf_count=500\nis_linear=0\nshrinkage=1\n\n"
    )
    mixed = lgb.Booster(model_str="\nTree=".join(blocks))
    assert [t["num_leaves"] for t in mixed.dump_model()["tree_info"]][1] == 1
    assert _max_abs_diff(mixed, X[:200]) <= TOLERANCE


def test_best_iteration_is_used_like_predict():
    X, logit = _numeric_data(2000, 5, seed=14)
    y = (logit > 0).astype(float)
    train, valid = lgb.Dataset(X[:1500], y[:1500]), lgb.Dataset(X[1500:], y[1500:])
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "learning_rate": 0.5, "num_threads": 2},
        train, num_boost_round=200, valid_sets=[valid], callbacks=[lgb.early_stopping(5, verbose=False)],
        keep_training_booster=True,
    )  # fmt: skip
    assert 0 < booster.best_iteration < booster.num_trees()
    assert _max_abs_diff(booster, X[:300]) <= TOLERANCE


def test_float32_input_and_small_chunks_give_the_same_values():
    X, logit = _numeric_data(2000, 6, seed=15, nan_rate=0.05)
    booster = _train(X, logit, {"objective": "regression", "num_leaves": 15}, 20)
    X32 = X[:333].astype(np.float32)
    assert _max_abs_diff(booster, X32, chunk_size=37) <= TOLERANCE


def test_rows_sum_to_the_raw_score():
    X, logit = _numeric_data(2000, 6, seed=16)
    booster = _train(X, (logit > 0).astype(float), {"objective": "binary"}, 20)
    values = FastTreeExplainer(booster).shap_values(X[:100])
    np.testing.assert_allclose(
        values.sum(axis=1), booster.predict(X[:100], raw_score=True), atol=1e-9
    )


@pytest.mark.slow
def test_bank_marketing_model_matches_pred_contrib():
    if not BANK_CSV.exists():
        pytest.skip(f"{BANK_CSV} not available")
    frame = pd.read_csv(BANK_CSV, sep=";").drop(columns=["duration"])
    y = (frame.pop("y") == "yes").astype(int)
    for column in frame.select_dtypes(exclude="number").columns:
        frame[column] = frame[column].astype("category")
    booster = _train(
        frame, y, {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05}, 100
    )
    sample = frame.sample(2000, random_state=0)
    assert _max_abs_diff(booster, sample) <= TOLERANCE


def test_unsupported_model_falls_back_with_a_warning_and_pred_contrib_values():
    X, logit = _numeric_data(600, 4, seed=18)
    y = np.digitize(logit, [-0.5, 0.5])
    multiclass = _train(X, y, {"objective": "multiclass", "num_class": 3}, 3)
    assert FastTreeExplainer.supports(multiclass)[0] is False
    with pytest.raises(ValueError, match="multiclass models are not supported"):
        FastTreeExplainer(multiclass)
    with pytest.warns(RuntimeWarning, match="multiclass"):
        values = tree_contributions(multiclass, X[:120], chunk_size=50)
    np.testing.assert_array_equal(values, multiclass.predict(X[:120], pred_contrib=True))


def test_linear_tree_is_rejected_and_left_to_lightgbm():
    X, logit = _numeric_data(1000, 4, seed=17)
    linear = _train(X, logit, {"objective": "regression", "linear_tree": True}, 5)
    ok, reason = FastTreeExplainer.supports(linear)
    assert not ok and "linear_tree models are not supported" in reason
    # LightGBM has no pred_contrib for linear trees either: its own error surfaces.
    with pytest.warns(RuntimeWarning, match="linear_tree"), pytest.raises(lgb.basic.LightGBMError):
        tree_contributions(linear, X[:20])


def test_supported_model_takes_the_fast_path_without_warning(recwarn):
    X, logit = _numeric_data(800, 4, seed=19)
    booster = _train(X, logit, {"objective": "regression"}, 5)
    values = tree_contributions(booster, X[:50])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert np.max(np.abs(values - booster.predict(X[:50], pred_contrib=True))) <= TOLERANCE


def test_columns_that_differ_from_training_are_reported_by_name():
    frame = pd.DataFrame({"visits": [0.0, 1.0, 2.0] * 50, "employees": [10.0, 50.0, 5.0] * 50})
    booster = _train(frame, frame["visits"] * 2.0, {"objective": "regression"}, 3)
    explainer = FastTreeExplainer(booster)
    with pytest.raises(ValueError, match=r"missing \['employees'\], unexpected \['staff'\]"):
        explainer.shap_values(frame.rename(columns={"employees": "staff"}))
    with pytest.raises(ValueError, match="other order"):
        explainer.shap_values(frame[["employees", "visits"]])
    with pytest.raises(ValueError, match=r"2 columns, got shape \(3, 3\)"):
        explainer.shap_values(np.zeros((3, 3)))


def test_demo_champion_matches_pred_contrib_on_training_rows_and_open_leads(
    champion, sql_config, sql_training_set, demo_data, tracking_uri
):
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.tracking import load_scorer

    scorer, _ = load_scorer("models:/leadml-sql@champion", uri=tracking_uri)
    booster = scorer.booster
    test_rows, _ = sql_training_set.part("test")
    test_rows = test_rows[list(scorer.spec.names)]  # model.selection kept these
    open_leads = build_scoring_set(sql_config, demo_data, as_of="2026-01-01", spec=scorer.spec).X
    explainer = FastTreeExplainer(booster)
    # the demo recycles dormant leads: ~3,000 stay open as of 2026-01-01
    for rows in (test_rows.iloc[:6000], open_leads.iloc[:6000]):
        assert len(rows) >= 2000
        expected = booster.predict(rows, pred_contrib=True)
        by_patterns = explainer.shap_values(rows, method="patterns")
        assert np.max(np.abs(by_patterns - expected)) <= TOLERANCE
        # both paths give the same bits, so a batch split into other chunks scores the same
        np.testing.assert_array_equal(explainer.shap_values(rows, method="rows"), by_patterns)
        np.testing.assert_array_equal(explainer.shap_values(rows, chunk_size=700), by_patterns)


def _words_and_patterns(booster: lgb.Booster, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    explainer = FastTreeExplainer(booster)
    tables = explainer.tables_
    M = _feature_major_matrix(X, explainer.pandas_categorical_)
    words = np.empty((tables.n_trees, M.shape[1]), dtype=np.uint64)
    _treeshap._decision_words(
        M, words, tables.tree_start, tables.node_int, tables.node_float, tables.cat_bits,
        tables.node_bit,
    )  # fmt: skip
    pattern = np.empty(words.shape, dtype=np.int32)
    n_patterns = np.empty(tables.n_trees, dtype=np.int64)
    _treeshap._distinct_words(words, pattern, n_patterns)
    return words, pattern, n_patterns


def test_rows_with_the_same_decisions_share_one_pattern_per_tree():
    X, logit = _numeric_data(3000, 6, seed=21)
    booster = _train(X, logit, {"objective": "regression", "num_leaves": 15}, 10)
    # 40 distinct rows, each repeated 50 times in a shuffled order
    rng = np.random.default_rng(0)
    rows = np.repeat(X[:40], 50, axis=0)[rng.permutation(2000)]
    words, pattern, n_patterns = _words_and_patterns(booster, rows)
    assert n_patterns.max() <= 40 and n_patterns.min() >= 2
    for t in range(len(n_patterns)):
        # numbered in order of first appearance; a row's number points at its own word
        first = pattern[t][np.sort(np.unique(pattern[t], return_index=True)[1])]
        np.testing.assert_array_equal(first, np.arange(n_patterns[t]))
        assert len(np.unique(words[t, : n_patterns[t]])) == n_patterns[t]
    alone = _words_and_patterns(booster, rows[1234:1235])[0][:, 0]
    np.testing.assert_array_equal(words[np.arange(len(words)), pattern[:, 1234]], alone)
    assert _max_abs_diff(booster, rows) <= TOLERANCE


def test_auto_shares_patterns_on_large_repetitive_chunks_and_not_on_unique_rows():
    X, logit = _numeric_data(6000, 8, seed=22, nan_rate=0.02)
    booster = _train(X, logit, {"objective": "regression", "num_leaves": 63}, 15)
    tables = FastTreeExplainer(booster).tables_
    assert tables.word_bits == 64  # 62 splits per tree: 64-bit words

    def method_used(rows: np.ndarray) -> str:
        out = np.empty((len(rows), rows.shape[1] + 1))
        return _treeshap.explain_matrix(tables, _treeshap.feature_major(rows), out)

    repetitive = np.repeat(X[:500], 10, axis=0)  # 5,000 rows, at most 10 % distinct words
    noisy = np.random.default_rng(1).normal(size=(5000, 8)) * 3  # nearly every word differs
    assert method_used(repetitive) == "patterns"
    assert method_used(noisy) == "rows"
    assert method_used(repetitive[: _treeshap.PATTERN_MIN_ROWS - 1]) == "rows"


def test_trees_over_64_splits_are_explained_row_by_row():
    X, logit = _numeric_data(6000, 8, seed=23)
    booster = _train(X, logit, {"objective": "regression", "num_leaves": 100}, 3)
    explainer = FastTreeExplainer(booster)
    assert explainer.tables_.word_bits == 0
    with pytest.raises(ValueError, match="at most 65 leaves"):
        explainer.shap_values(X[:10], method="patterns")
    expected = booster.predict(X[:5000], pred_contrib=True)
    assert np.max(np.abs(explainer.shap_values(X[:5000]) - expected)) <= TOLERANCE
    with pytest.raises(ValueError, match="method must be one of"):
        explainer.shap_values(X[:10], method="fast")


def test_working_arrays_kept_between_calls_and_threads_do_not_leak_values():
    from concurrent.futures import ThreadPoolExecutor

    X, logit = _numeric_data(9000, 6, seed=24, nan_rate=0.05)
    booster = _train(X, logit, {"objective": "regression", "num_leaves": 31}, 12)
    explainer = FastTreeExplainer(booster)
    batches = [X[:6000], X[6000:], X[1000:8000]]  # 6,000 then 3,000 then 7,000 rows
    expected = [booster.predict(batch, pred_contrib=True) for batch in batches]
    for batch, values in zip(batches, expected, strict=True):
        assert np.max(np.abs(explainer.shap_values(batch, method="patterns") - values)) <= TOLERANCE
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda b: explainer.shap_values(b, method="patterns"), batches * 2))
    for got, values in zip(results, expected * 2, strict=True):
        assert np.max(np.abs(got - values)) <= TOLERANCE


def test_more_than_65536_patterns_in_a_tree_keep_32_bit_pattern_numbers():
    rng = np.random.default_rng(25)
    X = rng.normal(size=(20_000, 16))
    booster = _train(X, np.sin(2 * X).sum(axis=1), {"objective": "regression", "num_leaves": 63}, 2)
    rows = rng.normal(size=(70_000, 16))
    _, _, n_patterns = _words_and_patterns(booster, rows)
    assert n_patterns.max() > 1 << 16  # too many for 16-bit pattern numbers
    explainer = FastTreeExplainer(booster)
    by_patterns = explainer.shap_values(rows, method="patterns")
    np.testing.assert_array_equal(by_patterns, explainer.shap_values(rows, method="rows"))
    expected = booster.predict(rows[-2000:], pred_contrib=True)
    assert np.max(np.abs(by_patterns[-2000:] - expected)) <= TOLERANCE


def test_a_few_rows_convert_in_one_block_as_column_by_column(monkeypatch):
    """Up to ``BLOCK_ROWS`` rows (a served lead) the numeric columns convert in one block;
    more go column by column: the same matrix, NaN and remapped categories included."""
    import leadml.trees.fastshap as fastshap

    booster, scoring = pandas_category_model()
    scoring = scoring.assign(flag=np.arange(len(scoring)) % 2 == 0, count=np.arange(len(scoring)))
    scoring.loc[scoring.index[5:9], "visits"] = np.nan
    known = [list(scoring["industry"].cat.categories), ["web", "event", "referral"]]
    monkeypatch.setattr(fastshap, "BLOCK_ROWS", 0)
    by_column = _feature_major_matrix(scoring, known)
    monkeypatch.setattr(fastshap, "BLOCK_ROWS", len(scoring))
    in_block = _feature_major_matrix(scoring, known)
    np.testing.assert_array_equal(in_block, by_column)
    assert np.isnan(in_block[2, 5:9]).all() and np.isnan(in_block[0, :20]).all()

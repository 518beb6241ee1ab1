"""Hand-worked cases that kill mutants of the explanation code (``make mutate``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.explain.explanation import canonical_reason_values


def test_an_event_group_keeps_only_what_its_sentence_tells():
    # email opens are told by their shortest active window, not by recency: lead 0 "2 in the
    # last 30 days", lead 1 "3 in the last 90 days"; the other window and the days are dropped
    values = pd.DataFrame(
        {
            "n_email_open_30d": [2, 0],
            "n_email_open_90d": [5, 3],
            "days_since_email_open": [3.7, 40.2],
        }
    )
    by_sentence = canonical_reason_values(values, "email_engagement")
    assert by_sentence["n_email_open_30d"].tolist() == [2.0, 0.0]
    assert by_sentence["n_email_open_90d"].tolist() == [0.0, 3.0]
    assert np.isnan(by_sentence["days_since_email_open"]).all()
    # without a group, only the days are rounded to the whole days a sentence tells
    assert canonical_reason_values(values).to_dict("list") == {
        "n_email_open_30d": [2, 0],
        "n_email_open_90d": [5, 3],
        "days_since_email_open": [3.0, 40.0],
    }

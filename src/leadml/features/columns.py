"""Feature columns as a family module computes them: 2-D kernel blocks and single columns.

A module's kernels write feature-major 2-D arrays (features x snapshots, pandas' own
block layout). :meth:`FeatureColumns.frame` hands them to pandas as they are (no copy:
the batch job's millions of rows); :meth:`FeatureColumns.items` gives each column as a
1-D view, so that :func:`leadml.features.build.build_features` can put a few rows (a
served lead) into one frame, in catalogue order, without pandas' per-block costs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["FeatureColumns"]

Column = np.ndarray | pd.Categorical


@dataclass(frozen=True)
class FeatureColumns:
    """Named features of ``n`` snapshots: ``blocks`` of (names, 2-D array with one row per
    name), then single ``columns``; :meth:`frame` lays them out in that order."""

    blocks: Sequence[tuple[Sequence[str], np.ndarray]] = ()
    columns: dict[str, Column] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """The features as a frame; the 2-D blocks go in as they are (no copy)."""
        parts = [
            pd.DataFrame(values.T, columns=list(names), copy=False) for names, values in self.blocks
        ]
        if self.columns or not parts:
            parts.append(pd.DataFrame(self.columns))  # (a few columns: one block)
        return parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)

    def items(self) -> Iterator[tuple[str, Column]]:
        """``(name, values)`` of every feature, in :meth:`frame`'s order (views, no copy)."""
        for names, values in self.blocks:
            yield from zip(names, values, strict=True)
        yield from self.columns.items()

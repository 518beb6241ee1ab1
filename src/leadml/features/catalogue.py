"""The feature catalogue: every model input with its family, readable group, kind and meaning.

Families are the four kinds of evidence a rep understands (fit, persona,
behaviour, intent); a **group** is one signal in plain words ("pricing page
interest", "company size"). Variants of one signal -- windows, recency,
decay -- share a group, so an explanation adds their points up and says one
sentence about them (see :mod:`leadml.explain.reasons`).

Each feature module declares the entries of the features it computes, beside
the code computing them (``fit_catalogue`` in :mod:`leadml.features.fit`, ...);
:func:`leadml.features.build.event_catalogue` puts them together in the order
of the feature frame, :func:`leadml.features.flat.flat_catalogue` reads them
from a flat dataset's declared columns. The same catalogue is saved with a
model (``to_dict``) and read back (``from_dict``), so a scorer explains the
same way before and after a save.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from leadml.vocabulary import FAMILIES, Direction, readable

__all__ = [
    "FAMILIES",
    "FeatureCatalogue",
    "FeatureInfo",
    "Kind",
    "type_entries",
    "vocabulary_entries",
]

Kind = Literal["numeric", "categorical"]
# A presence feature's window ("n_pricing_view_30d", "active_days_90d"); a reason about
# activity within RECENT_DAYS must point the way its direction says.
_WINDOW = re.compile(r"_(\d+)d$")
RECENT_DAYS = 30


@dataclass(frozen=True)
class FeatureInfo:
    """One model input: what it is called, what it belongs to and what it means."""

    name: str
    family: str
    group: str
    kind: Kind
    description: str = ""
    # The user's column this feature reads as is (flat columns, re-admitted columns), when
    # its spelling differs from ``name``; see :mod:`leadml.features.column_names`.
    source: str | None = None
    # The declared effect of more of this feature ("+", "-", None: no claim); see
    # :data:`leadml.vocabulary.Direction`. ``presence``: a value above 0 means the lead shows
    # the signal (a count of recent actions), so the group's reason must point its way.
    direction: Direction | None = None
    presence: bool = False

    @property
    def column(self) -> str:
        """The input column as the user wrote it (``name`` for derived features)."""
        return self.source or self.name

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(
                f"feature {self.name!r}: family {self.family!r} is not one of {list(FAMILIES)}"
            )
        if self.direction not in (None, "+", "-"):
            raise ValueError(
                f"feature {self.name!r}: direction {self.direction!r} is not '+', '-' or None"
            )
        if self.direction is not None and self.kind != "numeric":
            raise ValueError(
                f"feature {self.name!r}: a direction needs a numeric feature; kind is {self.kind!r}"
            )
        if self.kind not in ("numeric", "categorical"):
            raise ValueError(
                f"feature {self.name!r}: kind {self.kind!r} is not 'numeric' or 'categorical'"
            )


@dataclass(frozen=True)
class FeatureCatalogue:
    """Ordered feature entries plus a readable label and a main feature per group."""

    entries: tuple[FeatureInfo, ...]
    group_label: Mapping[str, str] = field(default_factory=dict)
    group_main: Mapping[str, str] = field(default_factory=dict)
    mode: str = "events"

    def __post_init__(self) -> None:
        names = [e.name for e in self.entries]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"feature catalogue: duplicated feature names {duplicated}")
        families: dict[str, str] = {}
        for e in self.entries:
            if families.setdefault(e.group, e.family) != e.family:
                raise ValueError(
                    f"feature catalogue: group {e.group!r} spans families "
                    f"{families[e.group]!r} and {e.family!r}"
                )

    # --- lookups ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[FeatureInfo]:
        return iter(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> FeatureInfo:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"feature {name!r} is not in the catalogue") from None

    def get(self, name: str, default: FeatureInfo | None = None) -> FeatureInfo | None:
        return self._by_name.get(name, default)

    # What depends only on the entries is worked out once per catalogue (a served model
    # reads it on every request); the frozen dataclass keeps it in the instance's __dict__.
    @functools.cached_property
    def _by_name(self) -> dict[str, FeatureInfo]:
        return {e.name: e for e in self.entries}

    @functools.cached_property
    def _members(self) -> dict[str, tuple[str, ...]]:
        """Feature names of each group, in catalogue order."""
        members: dict[str, list[str]] = {}
        for e in self.entries:
            members.setdefault(e.group, []).append(e.name)
        return {g: tuple(names) for g, names in members.items()}

    @functools.cached_property
    def _family_of_group(self) -> dict[str, str]:
        return {e.group: e.family for e in self.entries}

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries)

    @property
    def features(self) -> tuple[str, ...]:
        """Same as ``names`` (the attribute the explainer reads)."""
        return self.names

    @property
    def numeric(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries if e.kind == "numeric")

    @property
    def categorical(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.entries if e.kind == "categorical")

    @property
    def feature_group(self) -> dict[str, str]:
        return {e.name: e.group for e in self.entries}

    @property
    def group_family(self) -> dict[str, str]:
        return dict(self._family_of_group)

    @functools.cached_property
    def groups(self) -> tuple[str, ...]:
        """Groups in first-appearance order of their features."""
        return tuple(self._members)

    def group_features(self, group: str) -> list[str]:
        return list(self._members.get(group, ()))

    def group_main_feature(self, group: str) -> str:
        """The feature that best stands for a group on its own (for the learned grid)."""
        members = self.group_features(group)
        if not members:
            raise KeyError(f"group {group!r} is not in the catalogue; groups: {list(self.groups)}")
        main = self.group_main.get(group)
        return main if main in members else members[0]

    @property
    def labelled_groups(self) -> bool:
        """Groups read "{label}: {value}" (the columns of a flat export) rather than in
        sentences of their own (event features)."""
        return self.mode == "flat"

    def select(self, names: Sequence[str]) -> FeatureCatalogue:
        """The catalogue restricted to ``names``, in that order."""
        unknown = [n for n in names if n not in self]
        if unknown:
            raise ValueError(f"features not in the catalogue: {unknown}")
        entries = tuple(self[n] for n in names)
        groups = dict.fromkeys(e.group for e in entries)
        main = {}
        for g in groups:
            preferred = self.group_main.get(g)
            main[g] = (
                preferred if preferred in names else next(e.name for e in entries if e.group == g)
            )
        return FeatureCatalogue(
            entries=entries,
            group_label={g: lab for g, lab in self.group_label.items() if g in groups},
            group_main=main,
            mode=self.mode,
        )

    def extended(
        self, extra: Iterable[FeatureInfo], labels: Mapping[str, str] | None = None
    ) -> FeatureCatalogue:
        """A catalogue with more entries appended (e.g. columns re-admitted for an audit)."""
        extra = tuple(extra)
        return FeatureCatalogue(
            entries=self.entries + extra,
            group_label={**self.group_label, **(labels or {})},
            group_main={
                **self.group_main,
                **{e.group: e.name for e in extra if e.group not in self.group_main},
            },
            mode=self.mode,
        )

    @classmethod
    def concat(cls, parts: Iterable[FeatureCatalogue], *, mode: str = "events") -> FeatureCatalogue:
        """The entries of ``parts`` one after the other, with their labels and main features."""
        parts = tuple(parts)
        return cls(
            entries=tuple(e for part in parts for e in part.entries),
            group_label={g: label for part in parts for g, label in part.group_label.items()},
            group_main={g: name for part in parts for g, name in part.group_main.items()},
            mode=mode,
        )

    # --- directions -------------------------------------------------------------------
    @property
    def directions(self) -> dict[str, Direction]:
        """Declared directions by feature name (features without one are left out)."""
        return {e.name: e.direction for e in self.entries if e.direction is not None}

    def with_directions(self, overrides: Mapping[str, str | None]) -> FeatureCatalogue:
        """The catalogue with some features' directions replaced (``"none"`` or None: no claim).

        Keys are feature names or the columns they read; an unknown key is an error.
        """
        by_column = {e.column: e.name for e in self.entries}
        unknown = [k for k in overrides if k not in self and k not in by_column]
        if unknown:
            raise ValueError(
                f"model.directions: {unknown} are not features of this model; "
                f"features are {list(self.names)}"
            )
        named = {(k if k in self else by_column[k]): v for k, v in overrides.items()}
        entries = tuple(
            replace(e, direction=None if named[e.name] in (None, "none") else named[e.name])
            if e.name in named
            else e
            for e in self.entries
        )
        return replace(self, entries=entries)

    def monotone_constraints(self, *, counts_only: bool = False) -> list[int]:
        """LightGBM's ``monotone_constraints``, in feature order: +1, -1 or 0 per feature.

        ``counts_only`` keeps the constraints of the counts of actions (``presence``
        features) and drops those of recencies and aggregates (the dataset says whether
        ``model.monotone: counts`` means that: :attr:`leadml.pointintime.dataset.Dataset.counts_only_monotone`).
        """
        sign = {"+": 1, "-": -1, None: 0}
        return [sign[e.direction] if not counts_only or e.presence else 0 for e in self.entries]

    def expected_signs(self, values: Any, *, recent_days: int = RECENT_DAYS) -> np.ndarray:
        """(n rows, n groups) sign each group's reason must have for each row: +1, -1 or 0 (any).

        A group with declared directions and presence features (counts of actions in a
        window) points its way when the lead acted within ``recent_days`` (a count in a
        window that short above 0), and the other way when it shows no count in any window
        ("Never visited the pricing page", "No email opened for 33 months" cannot add
        points); in between (only older actions in a wider window), either sign reads true.
        ``values`` is a frame holding the presence features (missing counts read as 0).
        """
        out = np.zeros((len(values), len(self.groups)), dtype=np.int8)
        done_in = _presence(values, [n for _, _, members in self._sign_rules for n, _ in members])
        for j, way, members in self._sign_rules:
            recent = np.zeros(len(values), dtype=bool)
            any_window = np.zeros(len(values), dtype=bool)
            for name, window in members:
                done = done_in(name)
                any_window |= done
                if window is not None and window <= recent_days:
                    recent |= done
            out[:, j] = np.where(recent, way, np.where(any_window, 0, -way))
        return out

    @functools.cached_property
    def _sign_rules(self) -> tuple[tuple[int, int, tuple[tuple[str, int | None], ...]], ...]:
        """(group index, +1 / -1, its presence features with their window in days) of each
        group whose presence features declare one direction (:meth:`expected_signs`)."""
        rules = []
        for j, group in enumerate(self.groups):
            members = [e for e in self.entries if e.group == group and e.presence and e.direction]
            signs = {e.direction for e in members}
            if len(signs) != 1:
                continue  # no claim, or members pulling both ways
            windows = [_WINDOW.search(e.name) for e in members]
            rules.append(
                (
                    j,
                    1 if signs.pop() == "+" else -1,
                    tuple(
                        (e.name, None if w is None else int(w.group(1)))
                        for e, w in zip(members, windows, strict=True)
                    ),
                )
            )
        return tuple(rules)

    # --- explainer interface ----------------------------------------------------
    def membership(self, keys: tuple[str, ...], of: str) -> np.ndarray:
        """(n_features, len(keys)) 0/1 matrix mapping features to groups (``of="group"``) or families."""
        lookup = {k: i for i, k in enumerate(keys)}
        matrix = np.zeros((len(self.entries), len(keys)))
        for row, e in enumerate(self.entries):
            matrix[row, lookup[e.group if of == "group" else e.family]] = 1.0
        return matrix

    # --- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what a model saves as ``reason_catalogue.json`` (see :meth:`from_dict`)."""
        return {
            "mode": self.mode,
            "features": list(self.names),
            "feature_group": self.feature_group,
            "group_family": self.group_family,
            "group_main": {g: self.group_main_feature(g) for g in self.groups},
            "group_label": {g: self.group_label.get(g, readable(g)) for g in self.groups},
            # optional fields (None, False) are left out, so older readers see the keys they know
            "entries": [
                {k: v for k, v in asdict(e).items() if v is not None and v is not False}
                for e in self.entries
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureCatalogue:
        """Read ``to_dict()``'s output, also from models saved by earlier leadml versions.

        Entry keys this version does not know are ignored, and keys it added since
        take their defaults, so catalogues saved before or after a new entry field
        both load.
        """
        if "entries" not in data:
            raise ValueError(
                "feature catalogue: no 'entries' in the saved catalogue; "
                f"found keys {sorted(data)} (expected the output of FeatureCatalogue.to_dict)"
            )
        known = {f.name for f in fields(FeatureInfo)}
        return cls(
            entries=tuple(
                FeatureInfo(**{k: v for k, v in e.items() if k in known}) for e in data["entries"]
            ),
            group_label=dict(data.get("group_label", {})),
            group_main=dict(data.get("group_main", {})),
            mode=data.get("mode", "events"),
        )


# Frames of at most this many rows give their presence counts in one block (one pandas
# call instead of one per column); larger ones column by column (memory stays bounded).
_BLOCK_ROWS = 1024


def _presence(values: Any, names: list[str]) -> Callable[[str], np.ndarray]:
    """name -> whether each row's count is above 0 (a missing count is not)."""
    if isinstance(values, pd.DataFrame) and len(values) <= _BLOCK_ROWS and names:
        block = values[names].to_numpy(dtype=float) > 0
        return dict(zip(names, block.T, strict=True)).__getitem__
    return lambda name: np.asarray(values[name], dtype=float) > 0


def type_entries(
    code: str,
    *,
    family: str,
    group: str,
    windows: Sequence[int],
    counted: str,
    one: str,
    direction: Direction | None = None,
) -> list[FeatureInfo]:
    """The entries of one event or signal type: its count in each window, then its recency.

    With a ``direction`` ("+": more of it never lowers a score), the counts take it and tell
    presence; the recency of a "+" type takes "-" (longer ago counts less).

    ``type_entries("demo_request", family="behaviour", group="demo_request",
    windows=[7, 30], counted="events", one="event")`` gives ``n_demo_request_7d``
    ("'demo_request' events in the 7 days before as_of"), ``n_demo_request_30d``
    and ``days_since_demo_request``.
    """
    counts = [
        FeatureInfo(
            f"n_{code}_{w}d",
            family,
            group,
            "numeric",
            f"'{code}' {counted} in the {w} days before as_of",
            direction=direction,
            presence=direction is not None,
        )
        for w in windows
    ]
    recency = FeatureInfo(
        f"days_since_{code}",
        family,
        group,
        "numeric",
        f"Days since the last '{code}' {one} (missing if never)",
        # a negative signal (an unsubscribe) weighs as much whenever it happened: no claim
        direction="-" if direction == "+" else None,
    )
    return [*counts, recency]


def vocabulary_entries(
    codes: Iterable[str],
    words: Mapping[str, Any],
    group_of: Callable[[str], str],
    *,
    family: str,
    windows: Sequence[int],
    counted: str,
    one: str,
) -> tuple[list[FeatureInfo], dict[str, str]]:
    """The :func:`type_entries` of each code, with the direction its ``words`` entry declares
    (:data:`leadml.vocabulary.EVENTS`, :data:`leadml.vocabulary.SIGNALS`), and the first code
    of each group (whose features tell the group: its main feature is chosen from them)."""
    entries: list[FeatureInfo] = []
    first: dict[str, str] = {}
    for code in codes:
        group = group_of(code)
        entries += type_entries(
            code,
            family=family,
            group=group,
            windows=windows,
            counted=counted,
            one=one,
            direction=words[code].direction if code in words else None,
        )
        first.setdefault(group, code)
    return entries, first

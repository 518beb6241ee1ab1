"""The feature catalogue: every model input with its family, readable group, kind and meaning.

Families are the four kinds of evidence a rep understands (fit, persona,
behaviour, intent); a **group** is one signal in plain words ("pricing page
interest", "company size"). Variants of one signal -- windows, recency,
decay -- share a group, so an explanation adds their points up and says one
sentence about them (see :mod:`leadml.reasons`).

The catalogue is derived from the dataset config (event vocabulary, windows)
or, in flat mode, from the declared columns. It is also what the explainer
needs: it exposes the same attributes as :class:`leadml.explain.ReasonCatalogue`
(``features``, ``feature_group``, ``group_family``, ``group_main``,
``group_label``, ``mode``, ``render`` ...), and ``to_dict()`` is readable by
``ReasonCatalogue.from_dict``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from leadml.column_names import safe_names
from leadml.config import EventDataset, FlatDataset

__all__ = [
    "EVENT_GROUPS",
    "FAMILIES",
    "FeatureCatalogue",
    "FeatureInfo",
    "SIGNAL_GROUPS",
    "event_catalogue",
    "feature_catalogue",
    "flat_catalogue",
    "group_main_feature",
]

FAMILIES: tuple[str, ...] = ("fit", "persona", "behaviour", "intent")
Kind = Literal["numeric", "categorical"]

# Event types of the default vocabulary -> the signal group they feed.
# Types outside this table get a group of their own, named after the type.
EVENT_GROUPS: dict[str, str] = {
    "pricing_view": "pricing_interest",
    "demo_page_view": "demo_page_interest",
    "product_page_view": "product_interest",
    "blog_view": "blog_reading",
    "email_open": "email_engagement",
    "email_click": "email_engagement",
    "whitepaper_download": "content_download",
    "webinar_registration": "webinar",
    "webinar_attended": "webinar",
    "form_submit": "form_submission",
    "demo_request": "demo_request",
    "sales_touch": "sales_touches",
    "meeting": "meeting",
    "unsubscribe": "unsubscribe",
    "email_bounce": "email_bounce",
}
SIGNAL_GROUPS: dict[str, str] = {
    "funding_round": "recent_funding",
    "hiring_surge": "hiring_surge",
    "new_executive": "new_executive",
    "technology_change": "technology_change",
    "topic_surge": "topic_research",
}
# One-off actions are best told by recency ("requested a demo 2 days ago");
# repeated ones by a count in a window ("3 times in the last 7 days").
RECENCY_FIRST_EVENTS: frozenset[str] = frozenset(
    {
        "demo_request",
        "form_submit",
        "whitepaper_download",
        "webinar_registration",
        "webinar_attended",
        "meeting",
        "unsubscribe",
        "email_bounce",
    }
)

_GROUP_LABELS: dict[str, str] = {
    "industry": "Industry",
    "company_size": "Company size",
    "revenue": "Annual revenue",
    "geography": "Country and region",
    "icp_fit": "Ideal customer profile",
    "authority": "Seniority and role",
    "email_validity": "Email address",
    "pricing_interest": "Pricing page interest",
    "demo_page_interest": "Demo page interest",
    "product_interest": "Product page interest",
    "blog_reading": "Blog reading",
    "email_engagement": "Email engagement",
    "content_download": "Content downloads",
    "webinar": "Webinars",
    "form_submission": "Form submissions",
    "demo_request": "Demo request",
    "sales_touches": "Sales contacts",
    "meeting": "Meetings",
    "unsubscribe": "Unsubscribe",
    "email_bounce": "Email bounces",
    "engagement": "Overall engagement",
    "inactivity": "Inactivity",
    "lead_age": "Lead age",
    "source": "Source",
    "speed_to_lead": "Speed to lead",
    "recent_funding": "Funding round",
    "hiring_surge": "Hiring surge",
    "new_executive": "New executive",
    "technology_change": "Technology change",
    "topic_research": "Topic research",
    "intent_recency": "Company signals",
    "account_activity": "Account activity",
}


@dataclass(frozen=True)
class FeatureInfo:
    """One model input: what it is called, what it belongs to and what it means."""

    name: str
    family: str
    group: str
    kind: Kind
    description: str
    # The user's column this feature reads as is (flat columns, re-admitted columns), when
    # its spelling differs from ``name``; see :mod:`leadml.column_names`.
    source: str | None = None

    @property
    def column(self) -> str:
        """The input column as the user wrote it (``name`` for derived features)."""
        return self.source or self.name

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(
                f"feature {self.name!r}: family {self.family!r} is not one of {list(FAMILIES)}"
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

    @property
    def _by_name(self) -> dict[str, FeatureInfo]:
        return {e.name: e for e in self.entries}

    @property
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
        return {e.group: e.family for e in self.entries}

    @property
    def groups(self) -> tuple[str, ...]:
        """Groups in first-appearance order of their features."""
        return tuple(dict.fromkeys(e.group for e in self.entries))

    def group_features(self, group: str) -> list[str]:
        return [e.name for e in self.entries if e.group == group]

    def group_main_feature(self, group: str) -> str:
        """The feature that best stands for a group on its own (for the learned grid)."""
        members = self.group_features(group)
        if not members:
            raise KeyError(f"group {group!r} is not in the catalogue; groups: {list(self.groups)}")
        main = self.group_main.get(group)
        return main if main in members else members[0]

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

    # --- explainer interface ----------------------------------------------------
    def membership(self, keys: tuple[str, ...], of: str) -> np.ndarray:
        """(n_features, len(keys)) 0/1 matrix mapping features to groups (``of="group"``) or families."""
        lookup = {k: i for i, k in enumerate(keys)}
        matrix = np.zeros((len(self.entries), len(keys)))
        for row, e in enumerate(self.entries):
            matrix[row, lookup[e.group if of == "group" else e.family]] = 1.0
        return matrix

    def render(
        self, group: str, values: Mapping[str, Any], lang: str = "en", points: float | None = None
    ) -> str:
        """The plain-words sentence for one group of one lead (see :func:`leadml.reasons.reason_text`)."""
        from leadml.reasons import reason_text

        if self.mode == "flat":
            return reason_text(
                group,
                values,
                lang,  # type: ignore[arg-type]
                points=points,
                label=self.group_label.get(group, _humanise(group)),
                main=self.group_main_feature(group),
            )
        return reason_text(group, values, lang, points=points)  # type: ignore[arg-type]

    # --- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; also readable by ``leadml.explain.ReasonCatalogue.from_dict``."""
        return {
            "mode": self.mode,
            "features": list(self.names),
            "feature_group": self.feature_group,
            "group_family": self.group_family,
            "group_main": {g: self.group_main_feature(g) for g in self.groups},
            "group_label": {g: self.group_label.get(g, _humanise(g)) for g in self.groups},
            "entries": [
                {
                    "name": e.name,
                    "family": e.family,
                    "group": e.group,
                    "kind": e.kind,
                    "description": e.description,
                    **({"source": e.source} if e.source is not None else {}),
                }
                for e in self.entries
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureCatalogue:
        return cls(
            entries=tuple(FeatureInfo(**e) for e in data["entries"]),
            group_label=dict(data.get("group_label", {})),
            group_main=dict(data.get("group_main", {})),
            mode=data.get("mode", "events"),
        )

    def to_reason_catalogue(self) -> Any:
        """The explainer's :class:`leadml.explain.ReasonCatalogue` for these features."""
        from leadml.explain import ReasonCatalogue

        return ReasonCatalogue.from_dict(self.to_dict())


def _humanise(name: str) -> str:
    text = name.replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


def event_group(event_type: str) -> str:
    """The signal group an event type feeds."""
    return EVENT_GROUPS.get(event_type, event_type)


def signal_group(signal_type: str) -> str:
    """The signal group an intent signal type feeds."""
    return SIGNAL_GROUPS.get(signal_type, signal_type)


def _middle(windows: Sequence[int]) -> int:
    return sorted(windows)[len(windows) // 2]


def event_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    """Every feature :func:`leadml.features.build_features` computes, in output order."""
    fs = dataset.features
    entries: list[FeatureInfo] = []
    main: dict[str, str] = {}

    def add(name: str, family: str, group: str, kind: Kind, description: str) -> None:
        entries.append(FeatureInfo(name, family, group, kind, description))

    # fit: who the company is
    add("industry", "fit", "industry", "categorical", "Industry of the account")
    add("employees", "fit", "company_size", "numeric", "Employees of the account")
    add("log_employees", "fit", "company_size", "numeric", "log(1 + employees)")
    add("annual_revenue", "fit", "revenue", "numeric", "Annual revenue of the account")
    add("country", "fit", "geography", "categorical", "Country of the account")
    add("region", "fit", "geography", "categorical", "World region derived from the country")
    add(
        "size_in_range",
        "fit",
        "company_size",
        "numeric",
        f"1 if employees is within the ICP range [{dataset.icp.employees_min:g}, "
        f"{dataset.icp.employees_max:g}], 0 if not, missing if employees is unknown",
    )
    add("industry_match", "fit", "industry", "numeric", "1 if the industry is an ICP industry")
    add(
        "icp_match",
        "fit",
        "icp_fit",
        "numeric",
        "1 if both the size and the industry match the ICP",
    )
    main |= {
        "industry": "industry",
        "company_size": "employees",
        "revenue": "annual_revenue",
        "geography": "region",
        "icp_fit": "icp_match",
    }
    # persona: who the person is
    add("seniority", "persona", "authority", "categorical", "Seniority of the contact")
    add("department", "persona", "authority", "categorical", "Department of the contact")
    add("decision_maker", "persona", "authority", "numeric", "1 if the seniority decides (ICP)")
    add(
        "persona_match",
        "persona",
        "authority",
        "numeric",
        "1 if both the seniority and the department are ICP targets",
    )
    add("email_status", "persona", "email_validity", "categorical", "Email verification status")
    main |= {"authority": "seniority", "email_validity": "email_status"}
    # behaviour: what the person did, before as_of
    windows = sorted(fs.event_windows_days)
    for event_type in dataset.vocabularies.event_types:
        group = event_group(event_type)
        for w in windows:
            add(
                f"n_{event_type}_{w}d",
                "behaviour",
                group,
                "numeric",
                f"'{event_type}' events in the {w} days before as_of",
            )
        add(
            f"days_since_{event_type}",
            "behaviour",
            group,
            "numeric",
            f"Days since the last '{event_type}' event (missing if never)",
        )
        if group not in main:
            main[group] = (
                f"days_since_{event_type}"
                if event_type in RECENCY_FIRST_EVENTS or not windows
                else f"n_{event_type}_{_middle(windows)}d"
            )
    add(
        "active_days_90d",
        "behaviour",
        "engagement",
        "numeric",
        "Distinct days with engagement in the last 90 days",
    )
    add(
        "engagement_decayed",
        "behaviour",
        "engagement",
        "numeric",
        f"Engagement events weighted by exp(-ln2 * age / {fs.half_life_days:g} days)",
    )
    add(
        "engagement_trend",
        "behaviour",
        "engagement",
        "numeric",
        "Engagement events in the last 7 days minus the 23 days before scaled to 7 days",
    )
    add("lead_age_days", "behaviour", "lead_age", "numeric", "Days since the lead was created")
    add("source", "behaviour", "source", "categorical", "Acquisition channel")
    add(
        "hours_to_first_touch",
        "behaviour",
        "speed_to_lead",
        "numeric",
        f"Hours from creation to the first '{fs.sales_touch_event}' (missing if none yet)",
    )
    add(
        "days_since_last_activity",
        "behaviour",
        "inactivity",
        "numeric",
        "Days since the last engagement event (missing if none)",
    )
    main |= {
        "engagement": "engagement_decayed",
        "lead_age": "lead_age_days",
        "source": "source",
        "speed_to_lead": "hours_to_first_touch",
        "inactivity": "days_since_last_activity",
    }
    # intent: what happens at the company, before as_of
    for signal_type in dataset.vocabularies.signal_types:
        group = signal_group(signal_type)
        for w in sorted(fs.intent_windows_days):
            add(
                f"n_{signal_type}_{w}d",
                "intent",
                group,
                "numeric",
                f"'{signal_type}' signals at the account in the {w} days before as_of",
            )
        add(
            f"days_since_{signal_type}",
            "intent",
            group,
            "numeric",
            f"Days since the last '{signal_type}' signal (missing if never)",
        )
        main.setdefault(group, f"days_since_{signal_type}")
    add(
        "days_since_intent",
        "intent",
        "intent_recency",
        "numeric",
        "Days since the account's last intent signal",
    )
    add(
        "account_other_leads",
        "intent",
        "account_activity",
        "numeric",
        "Other leads of the same account created before as_of",
    )
    add(
        "account_other_events_30d",
        "intent",
        "account_activity",
        "numeric",
        "Events of those other leads in the 30 days before as_of",
    )
    main |= {"intent_recency": "days_since_intent", "account_activity": "account_other_events_30d"}
    groups = dict.fromkeys(e.group for e in entries)
    labels = {g: _GROUP_LABELS.get(g, _humanise(g)) for g in groups}
    return FeatureCatalogue(
        entries=tuple(entries), group_label=labels, group_main=main, mode="events"
    )


def flat_catalogue(dataset: FlatDataset, *, include: Sequence[str] = ()) -> FeatureCatalogue:
    """One entry per declared flat column (minus excluded ones, plus ``include``d ones).

    An entry's name is the column's internal name (:func:`leadml.column_names.safe_names`:
    the column itself when LightGBM keeps it as written) and its ``source`` the column
    as the user wrote it. The group of a column is its declared group or the column
    itself; its label is the declared label or the column name in words.
    """
    columns = [*dataset.feature_columns]
    for name in include:
        if name not in columns:
            if name not in (*dataset.numeric, *dataset.categorical):
                raise ValueError(
                    f"cannot include {name!r}: it is not a declared numeric or categorical column "
                    f"(declared: {[*dataset.numeric, *dataset.categorical]})"
                )
            columns.append(name)
    # Internal names are fixed over every declared column, so including one for the
    # audit never renames another.
    internal = safe_names(list(dict.fromkeys([*dataset.numeric, *dataset.categorical])))
    groups = safe_names(
        list(dict.fromkeys(i.group for i in dataset.features.values() if i.group)),
        taken=internal.values(),
    )
    entries = []
    labels: dict[str, str] = {}
    main: dict[str, str] = {}
    for column in columns:
        name = internal[column]
        info = dataset.features.get(column)
        family = info.family if info else "fit"
        group = groups[info.group] if info and info.group else name
        label = (info.label if info and info.label else None) or _humanise(column)
        kind: Kind = "categorical" if column in dataset.categorical else "numeric"
        note = " (post-outcome: audit only)" if column in dataset.post_outcome else ""
        source = column if column != name else None
        entries.append(FeatureInfo(name, family, group, kind, f"{label}{note}", source))
        labels.setdefault(group, label)
        main.setdefault(group, name)
    return FeatureCatalogue(
        entries=tuple(entries), group_label=labels, group_main=main, mode="flat"
    )


def feature_catalogue(
    dataset: EventDataset | FlatDataset, *, include: Sequence[str] = ()
) -> FeatureCatalogue:
    """The catalogue for either mode."""
    if isinstance(dataset, FlatDataset):
        return flat_catalogue(dataset, include=include)
    return event_catalogue(dataset)


def group_main_feature(catalogue: FeatureCatalogue, group: str) -> str:
    """Function form of :meth:`FeatureCatalogue.group_main_feature`."""
    return catalogue.group_main_feature(group)

"""Lead cards: the scored queue as one self-contained HTML page for sales reps.

Pure: frames in, an HTML string out. ``report_payload`` gathers what the
cards show (and nothing else) into a JSON-ready dict; ``render_html`` puts it
in the template with the inlined CSS and JS. The page makes no network
request: its Content-Security-Policy allows only its own inline script and
style, by hash.

The embedded data, per lead (keys left out when the value is missing)::

    {"id": "L17", "name": "Ada Lovelace", "title": "CTO", "company": "Acme",
     "industry": "software", "seniority": "C-level", "employees": 1200, "country": "FR",
     "source": "demo_form", "owner": "Alice", "tier": "hot", "dormant": true, "mql": true,
     "p": 0.4123, "pw": 0.12, "pts": 73.2, "sub": [12.0, 4.1, 9.3, -2.2],
     "base": 50.0, "reasons": [[0, 31.2, "behaviour"], ...], "other": -1.3,
     "acts": [["2025-12-30", "demo_request"], ...], "run": 0}

``reasons`` hold ``[index into texts, points, family]``: reason sentences
repeat across thousands of leads, so they are stored once. Points are
rounded to 0.1 and ``other`` absorbs the rounding, so that
``base + Σ reasons + other == pts`` holds for the numbers a rep reads.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from leadml.data.timestamps import naive_utc, naive_utc_series
from leadml.report.i18n import (
    event_label,
    industry_label,
    labels,
    seniority_label,
    source_label,
)
from leadml.vocabulary import FAMILIES, Lang, check_lang

__all__ = [
    "SCORE_COLUMNS",
    "Waterfall",
    "build_report",
    "embed_json",
    "latest_activities",
    "render_html",
    "report_payload",
    "scored_queue",
    "waterfall",
]

SCORE_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "probability",
    "points",
    "tier",
    "base_points",
    "reasons",
)
TIERS: tuple[str, ...] = ("hot", "warm", "cold")
_LEAD_COLUMNS = (
    "first_name",
    "last_name",
    "job_title",
    "seniority",
    "source",
    "owner",
    "account_id",
)
_ACCOUNT_COLUMNS = ("name", "industry", "employees", "country")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _require(frame: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{table}: missing columns {missing}; expected {list(columns)}, found {list(frame.columns)}"
        )


def _clean(value: Any) -> Any:
    """A JSON-safe scalar: None for NaN/NaT/pd.NA, plain Python numbers and strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _text(value: Any) -> str | None:
    value = _clean(value)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _naive_utc(values: pd.Series) -> pd.Series:
    """Timestamps without a time zone (aware ones converted to UTC first)."""
    return naive_utc_series(pd.to_datetime(values, errors="coerce"))


def _day(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.strftime("%Y-%m-%d")


# --- the queue ---------------------------------------------------------------


def scored_queue(
    scores: pd.DataFrame,
    leads: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    owner: str | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Scores joined to their lead and account, most probable first, for one owner, cut to ``top``.

    Lead ids are compared as text, so ``17`` in one table matches ``"17"`` in
    another. Ties in probability go to the higher points, then to the lead id.
    """
    _require(scores, "scores", SCORE_COLUMNS)
    _require(leads, "leads", ("lead_id",))
    if top is not None and top < 1:
        raise ValueError(f"You provided top={top}. Possible values are: None or an integer >= 1")
    ids = scores["lead_id"].astype(str)
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise ValueError(
            f"scores: column 'lead_id' has {len(duplicated)} duplicated values, e.g. "
            f"{list(duplicated[:5])}; expected one row per lead"
        )
    lead_info = leads[[c for c in ("lead_id", *_LEAD_COLUMNS) if c in leads.columns]]
    lead_info = lead_info.assign(_id=lead_info["lead_id"].astype(str)).drop(columns="lead_id")
    lead_info = lead_info.drop_duplicates("_id")
    queue = scores.assign(_id=ids).merge(lead_info, on="_id", how="left", validate="one_to_one")
    if "account_id" in queue.columns and "account_id" in accounts.columns:
        account_info = accounts[
            [c for c in ("account_id", *_ACCOUNT_COLUMNS) if c in accounts.columns]
        ]
        account_info = account_info.assign(_account=account_info["account_id"].astype(str))
        account_info = account_info.drop(columns="account_id").drop_duplicates("_account")
        account_info = account_info.rename(columns={"name": "company"})
        keys = queue["account_id"].astype(str).where(queue["account_id"].notna())
        queue = queue.assign(_account=keys).merge(account_info, on="_account", how="left")
    if owner is not None:
        if "owner" not in queue.columns:
            raise ValueError(f"leads: no 'owner' column, so owner={owner!r} cannot be selected")
        owners = queue["owner"].astype("string").str.strip()
        mine = owners.str.casefold() == owner.strip().casefold()
        if not mine.any():
            known = sorted(owners.dropna().unique())
            raise ValueError(
                f"You provided owner={owner!r}, who owns no scored lead. "
                f"Known owners ({len(known)}): {known[:10]}{' …' if len(known) > 10 else ''}"
            )
        queue = queue[mine.fillna(False).to_numpy()]
    queue = queue.sort_values(
        ["probability", "points", "_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
    if top is not None:
        queue = queue.head(top)
    return queue.reset_index(drop=True)


# --- the waterfall -----------------------------------------------------------


@dataclass(frozen=True)
class Waterfall:
    """Base, reasons and other factors in points, rounded so that they add up to ``total``."""

    base: float
    reasons: tuple[float, ...]
    other: float
    total: float


def waterfall(
    base_points: float, reason_points: Sequence[float], points: float, *, decimals: int = 1
) -> Waterfall:
    """The steps from the average lead to this lead's score, as a rep reads them.

    Every number is rounded to ``decimals``; "other factors" is what is left,
    so the rounded steps add up exactly to the rounded score, e.g.
    ``waterfall(50, [31.24, -4.36], 80.0)`` gives base 50.0, reasons
    (31.2, -4.4), other 3.2, total 80.0.
    """
    unit = 10**decimals
    base = round(float(base_points) * unit)
    steps = [round(float(p) * unit) for p in reason_points]
    total = round(float(points) * unit)
    other = total - base - sum(steps)
    return Waterfall(base / unit, tuple(s / unit for s in steps), other / unit, total / unit)


def _parse_reasons(value: Any, lead_id: str) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return value
    text = _text(value)
    if text is None:
        return []
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"scores: column 'reasons' of lead {lead_id!r} is not JSON ({exc.msg}); "
            f"expected a list of {{group, family, text, text_fr, points}}, got {text[:80]!r}"
        ) from exc
    if not isinstance(parsed, list):
        raise ValueError(
            f"scores: column 'reasons' of lead {lead_id!r} is a {type(parsed).__name__}; expected a list"
        )
    return parsed


def _reason_text(reason: dict[str, Any], lang: Lang) -> str:
    if lang == "fr":
        text = _text(reason.get("text_fr")) or _text(reason.get("text"))
    else:
        text = _text(reason.get("text"))
    return text or str(reason.get("group", "")).replace("_", " ")


# --- latest activities -------------------------------------------------------


def latest_activities(
    events: pd.DataFrame, as_of: pd.Series, *, n: int = 5
) -> dict[str, list[tuple[str, str]]]:
    """The ``n`` latest ``(day, event_type)`` of each lead before its ``as_of``, newest first.

    ``as_of`` is indexed by lead id (as text); events of other leads, and events
    at or after a lead's ``as_of`` (``ts < as_of`` is read, as for features),
    are left out.
    """
    if n <= 0 or events.empty or as_of.empty:
        return {}
    _require(events, "events", ("lead_id", "ts", "event_type"))
    ids = events["lead_id"].astype(str)
    keep = ids.isin(as_of.index).to_numpy()
    mine = pd.DataFrame(
        {
            "_id": ids[keep].to_numpy(),
            "ts": _naive_utc(events["ts"][keep]).to_numpy(),
            "event_type": events["event_type"][keep].to_numpy(),
        }
    )
    cutoff = mine["_id"].map(as_of)
    mine = mine[(mine["ts"] < cutoff) | cutoff.isna()].dropna(subset=["ts", "event_type"])
    mine = mine.sort_values(["_id", "ts"], ascending=[True, False], kind="stable")
    mine = mine.groupby("_id", sort=False).head(n)
    days = mine["ts"].dt.strftime("%Y-%m-%d").to_numpy()
    out: dict[str, list[tuple[str, str]]] = {}
    for lead_id, day, event_type in zip(
        mine["_id"].to_numpy(), days, mine["event_type"].astype(str).to_numpy(), strict=True
    ):
        out.setdefault(lead_id, []).append((day, event_type))
    return out


# --- the payload -------------------------------------------------------------


def scoring_runs(queue: pd.DataFrame, as_of: pd.Series) -> tuple[list[dict[str, str]], list[int]]:
    """The distinct (model, version, scoring day, as_of day) of the queue, and each lead's index into them.

    A queue normally comes from one run; storing it once keeps it out of every card's data.
    """
    parts: dict[str, pd.Series] = {}
    for column in ("model_name", "model_version", "model_won_version"):
        if column in queue.columns:
            parts[column] = queue[column].astype("string").str.strip().reset_index(drop=True)
    if "scored_at" in queue.columns:
        parts["scored_at"] = (
            _naive_utc(queue["scored_at"]).dt.strftime("%Y-%m-%d").reset_index(drop=True)
        )
    parts["as_of"] = pd.Series(pd.to_datetime(as_of.to_numpy()).strftime("%Y-%m-%d"))
    frame = pd.DataFrame(parts).astype("string").fillna("")
    # sort=False numbers the groups in order of first appearance, so the first rows come in code order.
    codes = frame.groupby(list(frame.columns), sort=False).ngroup()
    first_rows = codes.drop_duplicates().index
    runs = [
        {k: v for k, v in record.items() if v}
        for record in frame.loc[first_rows].to_dict("records")
    ]
    return runs, codes.tolist()


def _manifest_number(manifest: dict[str, Any], *paths: tuple[str, ...]) -> float | None:
    for path in paths:
        node: Any = manifest
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, int | float) and not isinstance(node, bool) and math.isfinite(node):
            return float(node)
    return None


def _manifest_as_of(manifest: dict[str, Any]) -> pd.Timestamp:
    value = manifest.get("as_of")
    if not value:
        return pd.NaT
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"manifest: as_of={value!r} is not a date (expected e.g. 2026-01-01)"
        ) from exc
    return naive_utc(stamp)


def _help_lines(manifest: dict[str, Any], text: dict[str, str], lang: Lang) -> list[str]:
    days = _manifest_number(manifest, ("horizon_days",), ("models", "main", "horizon_days"))
    window = text["help_window"].format(days=int(days)) if days else ""
    hot = _manifest_number(manifest, ("tier_thresholds", "hot"), ("models", "main", "tiers", "hot"))
    warm = _manifest_number(
        manifest, ("tier_thresholds", "warm"), ("models", "main", "tiers", "warm")
    )
    top_n = _manifest_number(manifest, ("tier_thresholds", "hot_top_n"))
    dormant_days = _manifest_number(manifest, ("tier_thresholds", "dormant_days"))
    pct = (lambda v: f"{v * 100:.0f} %") if lang == "fr" else (lambda v: f"{v * 100:.0f}%")
    if top_n is not None and warm is not None:
        tiers = text["help_tiers_capacity"].format(n=int(top_n), warm=pct(warm))
    elif hot is not None and warm is not None:
        tiers = text["help_tiers_thresholds"].format(hot=pct(hot), warm=pct(warm))
    else:
        tiers = text["help_tiers"]
    lines = [text["help_probability"].format(window=window), text["help_points"], tiers]
    if dormant_days is not None:
        lines.append(text["dormant_hint"].format(days=int(dormant_days)))
    return lines


def report_payload(
    scores: pd.DataFrame,
    leads: pd.DataFrame,
    accounts: pd.DataFrame,
    events: pd.DataFrame,
    *,
    manifest: dict[str, Any],
    owner: str | None = None,
    top: int | None = None,
    lang: Lang = "en",
    latest_activities_n: int = 5,
) -> dict[str, Any]:
    """Everything the page shows, JSON-ready: ``meta``, ``labels``, ``texts``, ``events``,
    ``sources``, ``industries``, ``runs``, ``leads``."""
    lang = check_lang(lang)
    text = labels(lang)
    if manifest.get("target") == "won":  # the main model predicts a won deal, not an SQL
        text = {**text, "probability": text["probability_won"]}
    queue = scored_queue(scores, leads, accounts, owner=owner, top=top)
    manifest_as_of = _manifest_as_of(manifest)
    if "as_of" in queue.columns:
        as_of = _naive_utc(queue["as_of"]).fillna(manifest_as_of)
    else:
        as_of = pd.Series(manifest_as_of, index=queue.index, dtype="datetime64[ns]")
    as_of.index = queue["_id"].to_numpy()
    activities = latest_activities(events, as_of, n=latest_activities_n)

    runs, run_of_lead = scoring_runs(queue, as_of)
    texts: list[str] = []
    text_index: dict[str, int] = {}
    event_types: dict[str, str] = {}
    sources: dict[str, str] = {}
    industries: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    rows = queue.to_dict("records")
    for row, run in zip(rows, run_of_lead, strict=True):
        lead_id = row["_id"]
        reasons = _parse_reasons(row["reasons"], lead_id)
        steps = waterfall(
            _clean(row["base_points"]) or 0.0,
            [_clean(r.get("points")) or 0.0 for r in reasons],
            _clean(row["points"]) or 0.0,
        )
        encoded = []
        for reason, points in zip(reasons, steps.reasons, strict=True):
            sentence = _reason_text(reason, lang)
            if sentence not in text_index:
                text_index[sentence] = len(texts)
                texts.append(sentence)
            family = reason.get("family")
            encoded.append(
                [text_index[sentence], points, family if family in FAMILIES else "other"]
            )
        acts = activities.get(lead_id, [])
        for _, event_type in acts:
            event_types.setdefault(event_type, event_label(event_type, lang))
        source = _text(row.get("source"))
        if source is not None:
            sources.setdefault(source, source_label(source, lang))
        industry = _text(row.get("industry"))
        if industry is not None:
            industries.setdefault(industry, industry_label(industry, lang))
        seniority = _text(row.get("seniority"))
        name = " ".join(t for t in (_text(row.get("first_name")), _text(row.get("last_name"))) if t)
        probability_won = _clean(row.get("probability_won"))
        employees = _clean(row.get("employees"))
        record = {
            "id": lead_id,
            "name": name or None,
            "title": _text(row.get("job_title")),
            "company": _text(row.get("company")),
            "industry": industry,
            "seniority": None if seniority is None else seniority_label(seniority, lang),
            "employees": int(employees) if isinstance(employees, int | float) else None,
            "country": _text(row.get("country")),
            "source": source,
            "owner": _text(row.get("owner")),
            "tier": _text(row.get("tier")),
            "dormant": True if _clean(row.get("dormant")) else None,
            "mql": bool(row["mql"]) if _clean(row.get("mql")) is not None else None,
            "p": round(float(row["probability"]), 4)
            if _clean(row["probability"]) is not None
            else None,
            "pw": round(float(probability_won), 4) if probability_won is not None else None,
            "pts": steps.total,
            "sub": [
                round(float(v), 1) if (v := _clean(row.get(f"score_{f}"))) is not None else None
                for f in FAMILIES
            ],
            "base": steps.base,
            "reasons": encoded,
            "other": steps.other,
            "acts": [list(a) for a in acts],
            "run": int(run),
        }
        records.append({k: v for k, v in record.items() if v is not None})

    counts = manifest.get("counts") if isinstance(manifest.get("counts"), dict) else {}
    return {
        "meta": {
            "lang": lang,
            "as_of": _day(manifest_as_of) or (runs[0].get("as_of") if runs else None),
            # The owner as the leads table spells it, not as typed on the command line.
            "owner": _text(queue["owner"].iloc[0]) if owner is not None and len(queue) else owner,
            "top": top,
            "scored": int(counts.get("scored", len(scores))),
            "queue": len(records),
            "help": _help_lines(manifest, text, lang),
            # `leadml report --allow-incomplete`: what is wrong with the scores folder
            "incomplete": [str(p)[:200] for p in manifest.get("incomplete", [])][:5],
        },
        "labels": text,
        "texts": texts,
        "events": event_types,
        "sources": sources,
        "industries": industries,
        "runs": runs,
        "leads": records,
    }


# --- the page ----------------------------------------------------------------


def embed_json(payload: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and line separators escaped.

    ``json.loads`` of the result gives the payload back.
    """
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def _asset(name: str) -> str:
    return resources.files("leadml.report").joinpath(name).read_text(encoding="utf-8")


def _csp_hash(source: str) -> str:
    return (
        "'sha256-"
        + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
        + "'"
    )


def render_html(payload: dict[str, Any]) -> str:
    """The page: template + inlined CSS and JS + the payload as escaped JSON."""
    text = payload["labels"]
    meta = payload["meta"]
    css, js = _asset("report.css"), _asset("report.js")
    if re.search(r"</style", css, re.IGNORECASE) or re.search(r"</script", js, re.IGNORECASE):
        raise ValueError(
            "report.css / report.js must not contain a closing </style> or </script> tag"
        )
    subtitle = [text["subtitle"]]
    if meta.get("as_of"):
        subtitle.append(f"{text['as_of']} {meta['as_of']}")
    if meta.get("owner"):
        subtitle.append(f"{text['owner']}{text['colon']}{meta['owner']}")
    if meta.get("incomplete"):
        subtitle.append("WARNING: incomplete scoring run (" + "; ".join(meta["incomplete"]) + ")")
    title = " · ".join([text["title"], *subtitle[1:]])
    slots = {
        "lang": html.escape(meta["lang"]),
        "page_title": html.escape(title),
        "csp": f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}",
        "css": css,
        "js": js,
        "data": embed_json(payload),
        "help": "".join(f"<p>{html.escape(line)}</p>" for line in meta["help"]),
        "subtitle": html.escape(" · ".join(subtitle)),
        **{f"t_{key}": html.escape(value) for key, value in text.items()},
    }
    template = _asset("template.html")
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - slots.keys())
    if unknown:
        raise ValueError(f"template.html: unknown placeholders {unknown}")
    # One pass: text put in a slot is never scanned again, so data cannot inject a placeholder.
    return _PLACEHOLDER.sub(lambda m: slots[m.group(1)], template)


def build_report(
    scores: pd.DataFrame,
    leads: pd.DataFrame,
    accounts: pd.DataFrame,
    events: pd.DataFrame,
    **options: Any,
) -> str:
    """One self-contained HTML page of the scored queue, with a card per lead:
    :func:`render_html` of :func:`report_payload` (``options`` are the latter's).

    Example::

        page = build_report(scores, tables.leads, tables.accounts, tables.events,
                            manifest=manifest, owner="Alice Martin", top=200, lang="fr")
    """
    return render_html(report_payload(scores, leads, accounts, events, **options))

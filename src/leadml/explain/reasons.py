"""Reason texts: one plain-words sentence per signal group, from the lead's own values, in English
and French.

``reason_text("demo_request", {"days_since_demo_request": 2.4}, "en")`` ->
"Requested a demo 2 days ago"; in French "A demandé une démo il y a 2 jours".
The sentence says what the lead's values are; the sign and size of the
points are shown beside it by the explainer, so the same values read the
same whether they add or remove points.

Numbers are written for people: thousands separators per language
("1,200" / "1 200" with a narrow no-break space), singular and plural
("1 time" / "3 times"), "today" / "yesterday" for recent days. Groups this
module has no sentence for (flat-mode columns, custom event types) read
"{label}: {value}".
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from leadml.features.catalogue import FeatureCatalogue
from leadml.vocabulary import (
    DEPARTMENTS,
    EVENTS,
    INDUSTRIES,
    REGIONS,
    SENIORITY,
    SIGNALS,
    SOURCES,
    Lang,
    event_types_of,
    format_number,
    in_lang,
    is_missing,
    plain_words,
    readable,
    signal_types_of,
    value_text,
)

__all__ = ["Lang", "format_number", "reason_text", "render_reason"]

DAYS_PER_MONTH = 30.44
# An action older than this many days (or than the widest count window) is told as the
# silence since; a demo request is followed up within days, so one older than
# DEMO_FOLLOW_UP_DAYS on a lead still open never progressed.
QUIET_AFTER_DAYS = 90
QUIET_SIGNAL_AFTER_DAYS = 180  # a company signal, without count windows to tell
DEMO_FOLLOW_UP_DAYS = 30


def _count(n: float, one: str, many: str, lang: Lang) -> str:
    n = int(round(n))
    # French takes the singular for 0 and 1 ("0 jour", "1 jour"), English for 1 only
    singular = abs(n) < 2 if lang == "fr" else n == 1
    return f"{format_number(n, lang)} {one if singular else many}"


def _times(n: float, lang: Lang) -> str:
    return _count(n, "time", "times", lang) if lang == "en" else _count(n, "fois", "fois", lang)


def _days(n: float, lang: Lang) -> str:
    return _count(n, "day", "days", lang) if lang == "en" else _count(n, "jour", "jours", lang)


def _ago(days: float, lang: Lang) -> str:
    """ "today", "yesterday", "3 days ago" (whole days elapsed)."""
    whole = int(math.floor(max(float(days), 0.0)))
    if whole == 0:
        return "today" if lang == "en" else "aujourd'hui"
    if whole == 1:
        return "yesterday" if lang == "en" else "hier"
    return f"{_days(whole, lang)} ago" if lang == "en" else f"il y a {_days(whole, lang)}"


def _span(days: float, lang: Lang) -> str:
    """A quiet spell: whole days under 60, then whole months ("33 months" / "33 mois")."""
    whole = int(math.floor(max(float(days), 0.0)))
    if whole < 60:
        return _days(whole, lang)
    months = int(whole // DAYS_PER_MONTH)
    return _count(months, "month", "months", lang) if lang == "en" else f"{months} mois"


def _in_last(days: int, lang: Lang) -> str:
    if lang == "en":
        return "in the last day" if days == 1 else f"in the last {format_number(days, lang)} days"
    return (
        "ces dernières 24 heures"
        if days == 1
        else f"ces {format_number(days, lang)} derniers jours"
    )


def _colon(lang: Lang) -> str:
    return ": " if lang == "en" else " : "


def _then(lang: Lang, en: str, fr: str, rest: str) -> str:
    """``en`` or ``fr`` followed by ``rest``, the part both languages share."""
    return f"{en if lang == 'en' else fr}{rest}"


def _number(values: Mapping[str, Any], key: str) -> float | None:
    value = values.get(key)
    if is_missing(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- behaviour and intent ---------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _window_keys(keys: tuple[str, ...], kind: str) -> tuple[tuple[int, str], ...]:
    """(window in days, feature name) of the ``n_{kind}_{w}d`` counts among ``keys``, by window."""
    pattern = re.compile(rf"^n_{re.escape(kind)}_(\d+)d$")
    found = ((pattern.match(key), key) for key in keys)
    return tuple(sorted((int(match.group(1)), key) for match, key in found if match))


def _windows_of(values: Mapping[str, Any], kind: str) -> dict[int, float]:
    out = {}
    for window, key in _window_keys(tuple(values), kind):
        count = _number(values, key)
        out[window] = 0.0 if count is None else count
    return out


@functools.lru_cache(maxsize=4096)
def _types_among(keys: tuple[str, ...]) -> tuple[str, ...]:
    found = [k[len("days_since_") :] for k in keys if k.startswith("days_since_")]
    found = [t for t in found if t not in ("intent", "last_activity")]
    if found:
        return tuple(found)
    pattern = re.compile(r"^n_(.+)_(\d+)d$")
    for key in keys:
        match = pattern.match(key)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return tuple(found)


def _types_in(
    group: str, values: Mapping[str, Any], known: Callable[[str], list[str]]
) -> list[str]:
    return list(_types_among(tuple(values))) or known(group)


def _event_phrases(event_type: str, lang: Lang) -> tuple[str, str]:
    words = EVENTS.get(event_type)
    if words is not None:
        return in_lang(words.done, lang), in_lang(words.never, lang)
    label = plain_words(event_type).capitalize()
    return (
        f"{label}{_colon(lang)}" + ("last one" if lang == "en" else "dernier"),
        f"{label}{_colon(lang)}" + ("never" if lang == "en" else "jamais"),
    )


def _event_sentence(event_type: str, values: Mapping[str, Any], lang: Lang) -> tuple[str, bool]:
    """(sentence, happened) for one event type."""
    done, never = _event_phrases(event_type, lang)
    counts = _windows_of(values, event_type)
    days = _number(values, f"days_since_{event_type}")
    active = {w: n for w, n in counts.items() if n > 0}
    if event_type not in EVENTS:
        label = plain_words(event_type).capitalize() + _colon(lang)
        if active:
            w, n = next(iter(active.items()))
            return f"{label}{_times(n, lang)} {_in_last(w, lang)}", True
        if days is not None:
            return f"{done} {_ago(days, lang)}", True
        return never, False
    words = EVENTS[event_type]
    quiet_after = DEMO_FOLLOW_UP_DAYS if event_type == "demo_request" else QUIET_AFTER_DAYS
    told_by_recency = words.recency_first or not active
    if days is not None and told_by_recency and words.quiet is not None and days >= quiet_after:
        text = in_lang(words.quiet, lang)
        return text.format(span=_span(days, lang), ago=_ago(days, lang)), True
    if days is not None and (words.recency_first or not active):
        return f"{done} {_ago(days, lang)}", True
    if active:
        w, n = next(iter(active.items()))
        return f"{done} {_times(n, lang)} {_in_last(w, lang)}", True
    return never, False


def renders_as_events(group: str, keys: tuple[str, ...]) -> bool:
    """Whether ``reason_text`` tells this group event type by event type (``_event_sentence``)."""
    if group in _GROUPS or signal_types_of(group):
        return False
    if any(k.startswith("days_since_") and k[len("days_since_") :] in SIGNALS for k in keys):
        return False
    return bool(event_types_of(group)) or any(k.startswith(("n_", "days_since_")) for k in keys)


def numbers(values: pd.Series | np.ndarray) -> np.ndarray:
    """``values`` as float64, NaN where not a number (``pd.to_numeric(errors="coerce")``)."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return np.asarray(values, dtype=float)
    return pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()


def canonical_event_columns(
    group: str, columns: dict[str, pd.Series | np.ndarray], n: int
) -> dict[str, pd.Series | np.ndarray]:
    """Keep of each event type only what its sentence tells: the days since the last one, or
    the count in the shortest window with any (others zeroed), so equal sentences share a key.

    ``columns`` holds ``n`` rows (name -> values); returned itself when the group is not told
    event type by event type. Mirrors ``_event_sentence``; ``tests/test_explain.py`` checks
    the sentences agree.
    """
    keys = tuple(columns)
    if not renders_as_events(group, keys):
        return columns
    out = dict(columns)
    for event_type in _types_among(keys):
        windows = [key for _, key in _window_keys(keys, event_type)]
        days_key = f"days_since_{event_type}"
        counts = np.zeros((n, len(windows)))
        for j, key in enumerate(windows):
            count = numbers(out[key])
            counts[:, j] = np.where(np.isnan(count), 0.0, count)
        active = counts > 0
        any_active = active.any(axis=1)
        days = numbers(out[days_key]) if days_key in out else np.full(n, np.nan)
        recency_first = event_type in EVENTS and EVENTS[event_type].recency_first
        use_days = ~np.isnan(days) & (recency_first | ~any_active)
        first = np.where(any_active, active.argmax(axis=1), -1)
        keep = (np.arange(counts.shape[1])[None, :] == first[:, None]) & ~use_days[:, None]
        for j, key in enumerate(windows):
            out[key] = np.where(keep[:, j], counts[:, j], 0.0)
        if days_key in out:
            out[days_key] = np.where(use_days, days, np.nan)
    return out


def _join(sentences: list[str], lang: Lang) -> str:
    first, *rest = sentences
    return ("; " if lang == "en" else " ; ").join([first, *(s[:1].lower() + s[1:] for s in rest)])


def _typed_group(
    group: str,
    values: Mapping[str, Any],
    lang: Lang,
    *,
    known: Callable[[str], list[str]],
    sentence: Callable[[str, Mapping[str, Any], Lang], tuple[str, bool]],
) -> str:
    """One sentence per event (or signal) type of the group that happened, joined; else the
    first type's "never" sentence."""
    sentences = [sentence(t, values, lang) for t in _types_in(group, values, known)]
    happened = [s for s, ok in sentences if ok]
    if not happened:
        return sentences[0][0] if sentences else _fallback(group, values, lang, None, None)
    return _join(happened, lang)


def _behaviour_group(group: str, values: Mapping[str, Any], lang: Lang) -> str:
    return _typed_group(group, values, lang, known=event_types_of, sentence=_event_sentence)


def _signal_sentence(signal: str, values: Mapping[str, Any], lang: Lang) -> tuple[str, bool]:
    words = SIGNALS.get(signal)
    if words is not None:
        name, never = in_lang(words.name, lang), in_lang(words.never, lang)
    else:
        label = plain_words(signal).capitalize()
        name = label
        never = f"{label}{_colon(lang)}" + ("none on record" if lang == "en" else "aucun connu")
    days = _number(values, f"days_since_{signal}")
    counts = _windows_of(values, signal)
    if days is None:
        active = {w: n for w, n in counts.items() if n > 0}
        if not active:
            return never, False
        w, n = next(iter(active.items()))
        return f"{name}{_colon(lang)}{format_number(n, lang)} {_in_last(w, lang)}", True
    quiet_after = max(counts) if counts else QUIET_SIGNAL_AFTER_DAYS
    if words is not None and words.quiet is not None and days >= quiet_after:
        return in_lang(words.quiet, lang).format(span=_span(days, lang)), True
    text = f"{name} {_ago(days, lang)}"
    if counts:
        widest, n = list(counts.items())[-1]
        if n >= 2:
            text += f" ({format_number(n, lang)} {_in_last(widest, lang)})"
    return text, True


def _intent_group(group: str, values: Mapping[str, Any], lang: Lang) -> str:
    return _typed_group(group, values, lang, known=signal_types_of, sentence=_signal_sentence)


# --- the other groups -------------------------------------------------------------------
def _company_size(values: Mapping[str, Any], lang: Lang) -> str:
    employees = _number(values, "employees")
    if employees is None:
        return "Company size unknown" if lang == "en" else "Taille de l'entreprise inconnue"
    if lang == "en":
        return f"Company of {_count(employees, 'employee', 'employees', lang)}"
    return f"Entreprise de {_count(employees, 'salarié', 'salariés', lang)}"


def _industry(values: Mapping[str, Any], lang: Lang) -> str:
    industry = values.get("industry")
    if is_missing(industry):
        return "Industry unknown" if lang == "en" else "Secteur inconnu"
    words = INDUSTRIES.get(str(industry))
    name = plain_words(industry) if words is None else in_lang(words, lang)
    name = name[:1].lower() + name[1:]
    text = ("Industry: " if lang == "en" else "Secteur : ") + name
    if _number(values, "industry_match") == 1:
        text += " (target sector)" if lang == "en" else " (secteur cible)"
    return text


def _revenue(values: Mapping[str, Any], lang: Lang) -> str:
    revenue = _number(values, "annual_revenue")
    if revenue is None:
        return "Revenue unknown" if lang == "en" else "Chiffre d'affaires inconnu"
    scales = (
        (1e9, ("billion", "billion"), ("milliard", "milliards")),
        (1e6, ("million", "million"), ("million", "millions")),
    )
    amount = format_number(revenue, lang)
    for size, en, fr in scales:
        if abs(revenue) >= size:
            x = round(revenue / size, 1)
            words = en if lang == "en" else fr
            amount = f"{format_number(x, lang, decimals=1)} {words[0] if x < 2 else words[1]}"
            break
    return _then(lang, "Annual revenue of ", "Chiffre d'affaires annuel de ", amount)


def _geography(values: Mapping[str, Any], lang: Lang) -> str:
    country = values.get("country")
    region = values.get("region")
    region_text = (
        None
        if is_missing(region)
        else REGIONS.get(str(region), (plain_words(region),) * 2)[lang == "fr"]
    )
    if is_missing(country):
        if region_text is None:
            return "Country unknown" if lang == "en" else "Pays inconnu"
        return (
            f"Region{_colon(lang)}{region_text}"
            if lang == "en"
            else f"Région{_colon(lang)}{region_text}"
        )
    text = ("Country" if lang == "en" else "Pays") + _colon(lang) + str(country)
    return f"{text} ({region_text})" if region_text else text


def _icp(values: Mapping[str, Any], lang: Lang) -> str:
    match = _number(values, "icp_match")
    if match is None:
        return (
            "Fit with the ideal customer profile unknown"
            if lang == "en"
            else "Adéquation au profil client idéal inconnue"
        )
    if match == 1:
        return (
            "Matches the ideal customer profile"
            if lang == "en"
            else "Correspond au profil client idéal"
        )
    return "Outside the ideal customer profile" if lang == "en" else "Hors du profil client idéal"


def _authority(values: Mapping[str, Any], lang: Lang) -> str:
    i = 0 if lang == "en" else 1
    seniority = values.get("seniority")
    department = values.get("department")
    dept = (
        None
        if is_missing(department)
        else DEPARTMENTS.get(str(department).lower(), (plain_words(department),) * 2)[i]
    )
    if is_missing(seniority):
        if dept is None:
            return "Role unknown" if lang == "en" else "Fonction inconnue"
        return (
            f"Works in {dept}, seniority unknown"
            if lang == "en"
            else f"Travaille en {dept}, niveau inconnu"
        )
    text = SENIORITY.get(str(seniority).lower(), (plain_words(seniority).capitalize(),) * 2)[i]
    if dept is not None:
        text += f" in {dept}" if lang == "en" else f" en {dept}"
    if _number(values, "decision_maker") == 1:
        text += " (decision maker)" if lang == "en" else " (décideur)"
    return text


def _email_validity(values: Mapping[str, Any], lang: Lang) -> str:
    status = values.get("email_status")
    known = {
        "valid": ("Valid email address", "Adresse e-mail valide"),
        "invalid": ("Invalid email address", "Adresse e-mail invalide"),
        "risky": ("Risky email address", "Adresse e-mail à risque"),
        "unknown": ("Email address not verified", "Adresse e-mail non vérifiée"),
    }
    key = "unknown" if is_missing(status) else str(status).lower()
    if key in known:
        return known[key][lang == "fr"]
    return _then(lang, "Email status", "Statut de l'e-mail", _colon(lang) + plain_words(status))


def _engagement(values: Mapping[str, Any], lang: Lang) -> str:
    days = _number(values, "active_days_90d")
    decayed = _number(values, "engagement_decayed")
    trend = _number(values, "engagement_trend") or 0.0
    if (days is None or days == 0) and not decayed:
        return (
            "No engagement in the last 90 days"
            if lang == "en"
            else "Aucun engagement ces 90 derniers jours"
        )
    if days is None or days == 0:
        text = "Little recent engagement" if lang == "en" else "Peu d'engagement récent"
    elif lang == "en":
        text = f"Active on {_days(days, lang)} in the last 90 days"
    else:
        text = f"Actif {_days(days, lang)} ces 90 derniers jours"
    if trend > 0.5:
        text += ", engagement rising" if lang == "en" else ", engagement en hausse"
    elif trend < -0.5:
        text += ", engagement falling" if lang == "en" else ", engagement en baisse"
    return text


def _inactivity(values: Mapping[str, Any], lang: Lang) -> str:
    days = _number(values, "days_since_last_activity")
    if days is None:
        return "No activity yet" if lang == "en" else "Aucune activité pour l'instant"
    if days < 1:
        return "Active today" if lang == "en" else "Actif aujourd'hui"
    if days < 2:
        return "Last active yesterday" if lang == "en" else "Dernière activité hier"
    return _then(lang, "No activity for ", "Aucune activité depuis ", _days(math.floor(days), lang))


def _lead_age(values: Mapping[str, Any], lang: Lang) -> str:
    days = _number(values, "lead_age_days")
    if days is None:
        return "Lead age unknown" if lang == "en" else "Ancienneté du lead inconnue"
    return _then(lang, "Lead created ", "Lead créé ", _ago(days, lang))


def _source(values: Mapping[str, Any], lang: Lang) -> str:
    source = values.get("source")
    if is_missing(source):
        return "Source unknown" if lang == "en" else "Source inconnue"
    text = plain_words(source)
    if lang == "fr" and str(source) in SOURCES:
        label = in_lang(SOURCES[str(source)], lang)
        text = label[:1].lower() + label[1:]
    return f"Source{_colon(lang)}{text}"


def _speed_to_lead(values: Mapping[str, Any], lang: Lang) -> str:
    hours = _number(values, "hours_to_first_touch")
    if hours is None:
        return in_lang(EVENTS["sales_touch"].never, lang)
    if hours < 0:
        return (
            "First sales contact before the lead was created"
            if lang == "en"
            else "Premier contact commercial avant la création du lead"
        )
    if hours < 1:
        return (
            "First sales contact within the hour"
            if lang == "en"
            else "Premier contact commercial en moins d'une heure"
        )
    if hours <= 72:
        n = int(round(hours))
        span = (
            _count(n, "hour", "hours", lang) if lang == "en" else _count(n, "heure", "heures", lang)
        )
    else:
        span = _days(math.floor(hours / 24), lang)
    return _then(lang, "First sales contact after ", "Premier contact commercial après ", span)


def _account_activity(values: Mapping[str, Any], lang: Lang) -> str:
    leads = _number(values, "account_other_leads")
    events = _number(values, "account_other_events_30d")
    if leads is None:
        return "Account activity unknown" if lang == "en" else "Activité du compte inconnue"
    if leads == 0:
        return (
            "No other contact at this company"
            if lang == "en"
            else "Aucun autre contact dans cette entreprise"
        )
    if lang == "en":
        text = f"{_count(leads, 'other contact', 'other contacts', lang)} at this company"
        if events is not None:
            text += (
                ", no action in the last 30 days"
                if events == 0
                else f", {_count(events, 'action', 'actions', lang)} in the last 30 days"
            )
        return text
    text = f"{_count(leads, 'autre contact', 'autres contacts', lang)} dans cette entreprise"
    if events is not None:
        text += (
            ", aucune action ces 30 derniers jours"
            if events == 0
            else f", {_count(events, 'action', 'actions', lang)} ces 30 derniers jours"
        )
    return text


def _intent_recency(values: Mapping[str, Any], lang: Lang) -> str:
    days = _number(values, "days_since_intent")
    if days is None:
        return "No company signal on record" if lang == "en" else "Aucun signal entreprise connu"
    if days >= QUIET_SIGNAL_AFTER_DAYS:
        span = _span(days, lang)
        return _then(lang, "No company signal for ", "Aucun signal entreprise depuis ", span)
    return _then(lang, "Latest company signal ", "Dernier signal entreprise ", _ago(days, lang))


_GROUPS = {
    "company_size": _company_size,
    "industry": _industry,
    "revenue": _revenue,
    "geography": _geography,
    "icp_fit": _icp,
    "authority": _authority,
    "email_validity": _email_validity,
    "engagement": _engagement,
    "inactivity": _inactivity,
    "lead_age": _lead_age,
    "source": _source,
    "speed_to_lead": _speed_to_lead,
    "account_activity": _account_activity,
    "intent_recency": _intent_recency,
}


def _fallback(
    group: str, values: Mapping[str, Any], lang: Lang, label: str | None, main: str | None
) -> str:
    key = main if main is not None else (group if group in values else next(iter(values), None))
    value = values.get(key) if key is not None else None
    return f"{label or plain_words(group).capitalize()}: {value_text(value, lang)}"


def reason_text(
    group: str,
    values: Mapping[str, Any],
    lang: Lang = "en",
    *,
    points: float | None = None,
    label: str | None = None,
    main: str | None = None,
) -> str:
    """The plain-words sentence for one signal group of one lead.

    ``values`` maps the group's feature names to the lead's raw values
    (numbers, strings, NaN for missing). ``points`` is accepted for the
    explainer but does not change the words: the sentence describes the
    values and the points are shown beside it. ``label`` and ``main`` serve
    groups without a sentence of their own (flat columns): "{label}: {value
    of main}".

    >>> reason_text("pricing_interest", {"n_pricing_view_7d": 3, "n_pricing_view_30d": 3}, "fr")
    'A consulté la page tarifs 3 fois ces 7 derniers jours'
    """
    if lang not in ("en", "fr"):
        raise ValueError(f"lang must be 'en' or 'fr'; got {lang!r}")
    if label is not None:
        return _fallback(group, values, lang, label, main)
    if group in _GROUPS:
        return _GROUPS[group](values, lang)
    if signal_types_of(group) or any(
        k.startswith("days_since_") and k[len("days_since_") :] in SIGNALS for k in values
    ):
        return _intent_group(group, values, lang)
    if event_types_of(group) or any(k.startswith(("n_", "days_since_")) for k in values):
        return _behaviour_group(group, values, lang)
    return _fallback(group, values, lang, label, main)


def render_reason(
    catalogue: FeatureCatalogue,
    group: str,
    values: Mapping[str, Any],
    lang: Lang = "en",
    points: float | None = None,
) -> str:
    """The sentence for one group of one lead, as ``catalogue`` reads it.

    Event-mode groups have sentences of their own; a flat-mode group reads
    "{label}: {value of its main feature}", with the value written for ``lang``
    ("1 234,5" in French). A freshly trained scorer and one loaded from its
    artifacts hold the same catalogue, so both say the same words.
    """
    if catalogue.labelled_groups:
        return reason_text(
            group,
            values,
            lang,
            points=points,
            label=catalogue.group_label.get(group, readable(group)),
            main=catalogue.group_main_feature(group),
        )
    return reason_text(group, values, lang, points=points)

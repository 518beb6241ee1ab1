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
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from leadml.catalogue import EVENT_GROUPS, RECENCY_FIRST_EVENTS, SIGNAL_GROUPS

__all__ = ["Lang", "format_number", "reason_text"]

Lang = Literal["en", "fr"]
_THOUSANDS = {"en": ",", "fr": "\u202f"}
_DECIMAL = {"en": ".", "fr": ","}

# event type -> (done, never) per language; "done" takes "N times in the last W days" or "2 days ago"
_EVENTS: dict[str, dict[str, tuple[str, str]]] = {
    "pricing_view": {
        "en": ("Visited the pricing page", "Never visited the pricing page"),
        "fr": ("A consulté la page tarifs", "N'a jamais consulté la page tarifs"),
    },
    "demo_page_view": {
        "en": ("Viewed the demo page", "Never viewed the demo page"),
        "fr": ("A consulté la page démo", "N'a jamais consulté la page démo"),
    },
    "product_page_view": {
        "en": ("Viewed product pages", "Never viewed a product page"),
        "fr": ("A consulté les pages produit", "N'a jamais consulté de page produit"),
    },
    "blog_view": {
        "en": ("Read the blog", "Never read the blog"),
        "fr": ("A lu le blog", "N'a jamais lu le blog"),
    },
    "email_open": {
        "en": ("Opened our emails", "Never opened our emails"),
        "fr": ("A ouvert nos e-mails", "N'a jamais ouvert nos e-mails"),
    },
    "email_click": {
        "en": ("Clicked in our emails", "Never clicked in our emails"),
        "fr": ("A cliqué dans nos e-mails", "N'a jamais cliqué dans nos e-mails"),
    },
    "whitepaper_download": {
        "en": ("Downloaded a white paper", "Never downloaded a white paper"),
        "fr": ("A téléchargé un livre blanc", "N'a jamais téléchargé de livre blanc"),
    },
    "webinar_registration": {
        "en": ("Registered for a webinar", "Never registered for a webinar"),
        "fr": ("S'est inscrit à un webinaire", "Ne s'est jamais inscrit à un webinaire"),
    },
    "webinar_attended": {
        "en": ("Attended a webinar", "Never attended a webinar"),
        "fr": ("A assisté à un webinaire", "N'a jamais assisté à un webinaire"),
    },
    "form_submit": {
        "en": ("Submitted a form", "Never submitted a form"),
        "fr": ("A rempli un formulaire", "N'a jamais rempli de formulaire"),
    },
    "demo_request": {
        "en": ("Requested a demo", "Never requested a demo"),
        "fr": ("A demandé une démo", "N'a jamais demandé de démo"),
    },
    "sales_touch": {
        "en": ("Contacted by sales", "Not contacted by sales yet"),
        "fr": ("Contacté par un commercial", "Pas encore contacté par un commercial"),
    },
    "meeting": {
        "en": ("Had a meeting", "No meeting yet"),
        "fr": ("A eu un rendez-vous", "Aucun rendez-vous pour l'instant"),
    },
    "unsubscribe": {
        "en": ("Unsubscribed", "Never unsubscribed"),
        "fr": ("S'est désabonné", "Ne s'est jamais désabonné"),
    },
    "email_bounce": {
        "en": ("Email bounced", "No email bounce"),
        "fr": ("E-mail rejeté", "Aucun e-mail rejeté"),
    },
}
# signal type -> (name, never) per language
_SIGNALS: dict[str, dict[str, tuple[str, str]]] = {
    "funding_round": {
        "en": ("Funding round", "No funding round on record"),
        "fr": ("Levée de fonds", "Aucune levée de fonds connue"),
    },
    "hiring_surge": {
        "en": ("Hiring surge", "No hiring surge on record"),
        "fr": ("Vague de recrutement", "Aucune vague de recrutement connue"),
    },
    "new_executive": {
        "en": ("New executive", "No new executive on record"),
        "fr": ("Nouveau dirigeant", "Aucun nouveau dirigeant connu"),
    },
    "technology_change": {
        "en": ("Technology change", "No technology change on record"),
        "fr": ("Changement technologique", "Aucun changement technologique connu"),
    },
    "topic_surge": {
        "en": ("Research surge on our topics", "No research surge on our topics"),
        "fr": ("Recherches accrues sur nos sujets", "Aucune recherche accrue sur nos sujets"),
    },
}
_SENIORITY = {
    "c_level": ("C-level", "C-level"),
    "vp": ("VP", "VP"),
    "director": ("Director", "Directeur"),
    "manager": ("Manager", "Manager"),
    "individual_contributor": ("Individual contributor", "Contributeur individuel"),
    "student": ("Student", "Étudiant"),
}
_DEPARTMENTS = {
    "it": ("IT", "IT"),
    "hr": ("HR", "RH"),
    "engineering": ("Engineering", "ingénierie"),
    "operations": ("Operations", "opérations"),
    "finance": ("Finance", "finance"),
    "marketing": ("Marketing", "marketing"),
    "sales": ("Sales", "ventes"),
    "legal": ("Legal", "juridique"),
    "procurement": ("Procurement", "achats"),
    "product": ("Product", "produit"),
    "executive": ("Executive", "direction"),
    "support": ("Support", "support"),
}
_SOURCES_FR = {
    "demo_form": "formulaire de démo",
    "referral": "recommandation",
    "organic_search": "recherche naturelle",
    "webinar": "webinaire",
    "content_download": "téléchargement de contenu",
    "paid_search": "recherche payante",
    "paid_social": "réseaux sociaux payants",
    "trade_show": "salon",
    "purchased_list": "liste achetée",
    "outbound": "prospection sortante",
}
_REGIONS = {
    "north_america": ("North America", "Amérique du Nord"),
    "latin_america": ("Latin America", "Amérique latine"),
    "europe": ("Europe", "Europe"),
    "middle_east_africa": ("Middle East & Africa", "Moyen-Orient et Afrique"),
    "asia_pacific": ("Asia-Pacific", "Asie-Pacifique"),
    "other": ("other region", "autre région"),
}
_GROUP_EVENTS: dict[str, list[str]] = {}
for _type, _group in EVENT_GROUPS.items():
    _GROUP_EVENTS.setdefault(_group, []).append(_type)
_GROUP_SIGNALS: dict[str, list[str]] = {}
for _type, _group in SIGNAL_GROUPS.items():
    _GROUP_SIGNALS.setdefault(_group, []).append(_type)


# --- words and numbers ------------------------------------------------------------
def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def format_number(value: float, lang: Lang = "en", *, decimals: int | None = None) -> str:
    """``1200`` -> "1,200" (en) / "1 200" (fr, narrow no-break space); decimals trimmed."""
    value = float(value)
    if decimals is None:
        decimals = 0 if value.is_integer() else (1 if abs(value) >= 100 else 2)
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\x00").replace(".", _DECIMAL[lang]).replace("\x00", _THOUSANDS[lang])


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


def _in_last(days: int, lang: Lang) -> str:
    if lang == "en":
        return "in the last day" if days == 1 else f"in the last {format_number(days, lang)} days"
    return (
        "ces dernières 24 heures"
        if days == 1
        else f"ces {format_number(days, lang)} derniers jours"
    )


def _words(code: Any) -> str:
    return str(code).replace("_", " ").strip()


def _value_text(value: Any, lang: Lang) -> str:
    if _missing(value):
        return "unknown" if lang == "en" else "inconnu"
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no") if lang == "en" else ("oui" if value else "non")
    if isinstance(value, int | float | np.integer | np.floating):
        value = float(value)
        decimals = 0 if value.is_integer() else 3
        return format_number(value, lang, decimals=decimals)
    return str(value)


def _colon(lang: Lang) -> str:
    return ": " if lang == "en" else " : "


def _number(values: Mapping[str, Any], key: str) -> float | None:
    value = values.get(key)
    if _missing(value):
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


def _types_in(group: str, values: Mapping[str, Any], known: Mapping[str, list[str]]) -> list[str]:
    return list(_types_among(tuple(values))) or list(known.get(group, []))


def _event_phrases(event_type: str, lang: Lang) -> tuple[str, str]:
    if event_type in _EVENTS:
        return _EVENTS[event_type][lang]
    label = _words(event_type).capitalize()
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
    if event_type not in _EVENTS:
        label = _words(event_type).capitalize() + _colon(lang)
        if active:
            w, n = next(iter(active.items()))
            return f"{label}{_times(n, lang)} {_in_last(w, lang)}", True
        if days is not None:
            return f"{label}{'last one' if lang == 'en' else 'dernier'} {_ago(days, lang)}", True
        return never, False
    if days is not None and (event_type in RECENCY_FIRST_EVENTS or not active):
        return f"{done} {_ago(days, lang)}", True
    if active:
        w, n = next(iter(active.items()))
        return f"{done} {_times(n, lang)} {_in_last(w, lang)}", True
    return never, False


def renders_as_events(group: str, keys: tuple[str, ...]) -> bool:
    """Whether ``reason_text`` tells this group event type by event type (``_event_sentence``)."""
    if group in _GROUPS or group in _GROUP_SIGNALS:
        return False
    if any(k.startswith("days_since_") and k[len("days_since_") :] in SIGNAL_GROUPS for k in keys):
        return False
    return group in _GROUP_EVENTS or any(k.startswith(("n_", "days_since_")) for k in keys)


def canonical_event_values(group: str, values: pd.DataFrame) -> pd.DataFrame:
    """Keep of each event type only what its sentence tells: the days since the last one, or
    the count in the shortest window with any (others zeroed), so equal sentences share a key.

    Mirrors ``_event_sentence``; ``tests/test_explain.py`` checks the sentences agree.
    """
    keys = tuple(values.columns)
    if not renders_as_events(group, keys):
        return values
    out = values.copy()
    for event_type in _types_among(keys):
        windows = [key for _, key in _window_keys(keys, event_type)]
        days_key = f"days_since_{event_type}"
        n = len(out)
        counts = (
            out[windows].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(dtype=float)
            if windows
            else np.zeros((n, 0))
        )
        active = counts > 0
        any_active = active.any(axis=1)
        days = (
            pd.to_numeric(out[days_key], errors="coerce").to_numpy(dtype=float)
            if days_key in out
            else np.full(n, np.nan)
        )
        recency_first = event_type in _EVENTS and event_type in RECENCY_FIRST_EVENTS
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


def _behaviour_group(group: str, values: Mapping[str, Any], lang: Lang) -> str:
    types = _types_in(group, values, _GROUP_EVENTS)
    sentences = [_event_sentence(t, values, lang) for t in types]
    happened = [s for s, ok in sentences if ok]
    if not happened:
        return sentences[0][0] if sentences else _fallback(group, values, lang, None, None)
    return _join(happened, lang)


def _signal_sentence(signal: str, values: Mapping[str, Any], lang: Lang) -> tuple[str, bool]:
    name, never = _SIGNALS.get(signal, {}).get(lang, (None, None)) or (None, None)
    if name is None:
        label = _words(signal).capitalize()
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
    text = f"{name} {_ago(days, lang)}"
    if counts:
        widest, n = list(counts.items())[-1]
        if n >= 2:
            text += f" ({format_number(n, lang)} {_in_last(widest, lang)})"
    return text, True


def _intent_group(group: str, values: Mapping[str, Any], lang: Lang) -> str:
    types = _types_in(group, values, _GROUP_SIGNALS)
    sentences = [_signal_sentence(t, values, lang) for t in types]
    happened = [s for s, ok in sentences if ok]
    if not happened:
        return sentences[0][0] if sentences else _fallback(group, values, lang, None, None)
    return _join(happened, lang)


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
    if _missing(industry):
        return "Industry unknown" if lang == "en" else "Secteur inconnu"
    text = ("Industry: " if lang == "en" else "Secteur : ") + _words(industry)
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
    return (
        f"Annual revenue of {amount}" if lang == "en" else f"Chiffre d'affaires annuel de {amount}"
    )


def _geography(values: Mapping[str, Any], lang: Lang) -> str:
    country = values.get("country")
    region = values.get("region")
    region_text = (
        None if _missing(region) else _REGIONS.get(str(region), (_words(region),) * 2)[lang == "fr"]
    )
    if _missing(country):
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
        if _missing(department)
        else _DEPARTMENTS.get(str(department).lower(), (_words(department),) * 2)[i]
    )
    if _missing(seniority):
        if dept is None:
            return "Role unknown" if lang == "en" else "Fonction inconnue"
        return (
            f"Works in {dept}, seniority unknown"
            if lang == "en"
            else f"Travaille en {dept}, niveau inconnu"
        )
    text = _SENIORITY.get(str(seniority).lower(), (_words(seniority).capitalize(),) * 2)[i]
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
    key = "unknown" if _missing(status) else str(status).lower()
    if key in known:
        return known[key][lang == "fr"]
    return (
        f"Email status{_colon(lang)}{_words(status)}"
        if lang == "en"
        else f"Statut de l'e-mail{_colon(lang)}{_words(status)}"
    )


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
    return (
        f"No activity for {_days(math.floor(days), lang)}"
        if lang == "en"
        else f"Aucune activité depuis {_days(math.floor(days), lang)}"
    )


def _lead_age(values: Mapping[str, Any], lang: Lang) -> str:
    days = _number(values, "lead_age_days")
    if days is None:
        return "Lead age unknown" if lang == "en" else "Ancienneté du lead inconnue"
    return f"Lead created {_ago(days, lang)}" if lang == "en" else f"Lead créé {_ago(days, lang)}"


def _source(values: Mapping[str, Any], lang: Lang) -> str:
    source = values.get("source")
    if _missing(source):
        return "Source unknown" if lang == "en" else "Source inconnue"
    text = _words(source) if lang == "en" else _SOURCES_FR.get(str(source), _words(source))
    return f"Source{_colon(lang)}{text}"


def _speed_to_lead(values: Mapping[str, Any], lang: Lang) -> str:
    hours = _number(values, "hours_to_first_touch")
    if hours is None:
        return _EVENTS["sales_touch"][lang][1]
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
    return (
        f"First sales contact after {span}"
        if lang == "en"
        else f"Premier contact commercial après {span}"
    )


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
    return (
        f"Latest company signal {_ago(days, lang)}"
        if lang == "en"
        else f"Dernier signal entreprise {_ago(days, lang)}"
    )


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
    return f"{label or _words(group).capitalize()}: {_value_text(value, lang)}"


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
    if group in _GROUP_SIGNALS or any(
        k.startswith("days_since_") and k[len("days_since_") :] in SIGNAL_GROUPS for k in values
    ):
        return _intent_group(group, values, lang)
    if group in _GROUP_EVENTS or any(k.startswith(("n_", "days_since_")) for k in values):
        return _behaviour_group(group, values, lang)
    return _fallback(group, values, lang, label, main)

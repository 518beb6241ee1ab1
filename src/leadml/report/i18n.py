"""The words on the lead cards, in English and French.

``labels(lang)`` returns every UI string the page needs; ``event_label`` and
``source_label`` turn the data's codes (``pricing_view``, ``demo_form``) into
words a sales rep reads, from :mod:`leadml.vocabulary` (the one home of those
words). Unknown codes fall back to the code made readable, so a new event type
never breaks a report.
"""

from __future__ import annotations

from leadml.vocabulary import (
    EVENTS,
    FAMILY_LABELS,
    INDUSTRIES,
    LANGS,
    SENIORITY,
    SOURCES,
    Lang,
    check_lang,
    in_lang,
    readable,
)

__all__ = [
    "LANGS",
    "Lang",
    "check_lang",
    "code_label",
    "event_label",
    "industry_label",
    "labels",
    "seniority_label",
    "source_label",
]

_UI: dict[str, dict[str, str]] = {
    "en": {
        "colon": ": ",
        "title": "Lead queue",
        "subtitle": "Scored leads, most likely to become an SQL first",
        "as_of": "As of",
        "scored_at": "Scored",
        "owner": "Owner",
        "search": "Search",
        "search_placeholder": "Name, company or lead id",
        "tier": "Tier",
        "source": "Source",
        "all": "All",
        "show_dormant": "Show dormant leads ({n})",
        "dormant": "Dormant",
        "dormant_hint": "No activity for {days} days or more: hidden unless you tick “Show dormant leads”.",
        "leads_shown": "{shown} of {total} leads",
        "no_leads": "No lead matches these filters.",
        "load_more": "Show more",
        "probability": "Chance of SQL",
        "probability_won": "Chance of a won deal",
        "points": "Points",
        "rank": "Rank",
        "close": "Close",
        "subscores": "Where the points come from",
        "reasons": "Why this score",
        "base": "Average lead in training",
        "other": "Other factors",
        "total": "Score",
        "activities": "Latest activities",
        "no_activities": "No recorded activity before the scoring date.",
        "model": "Model",
        "model_won": "won-deal model",
        "version": "version",
        "company": "Company",
        "employees": "employees",
        "mql": "MQL",
        "unknown_company": "Unknown company",
        "pick_a_lead": "Pick a lead in the queue to see its card.",
        "keyboard_hint": "Keys: ↑ ↓ to move, Enter to open, Esc to close, / to search.",
        "help_title": "How to read this score",
        "help_probability": (
            "Chance of SQL: the probability that this lead becomes a sales qualified lead{window}. "
            "Out of 100 leads at 30%, about 30 will."
        ),
        "help_window": " within {days} days",
        "help_points": (
            "Points: 50 is the average open lead (the leads open when the model was trained); every "
            "+20 points doubles the odds, every −20 halves them. The reasons show what added or "
            "removed points, from the average lead the model learned from to this lead's score."
        ),
        "help_tiers": "Tiers: hot = call now, warm = worth a touch soon, cold = nurture.",
        "help_tiers_thresholds": (
            "Tiers: hot from {hot} chance of SQL (call now), warm from {warm} (a touch soon), "
            "cold below (nurture)."
        ),
        "help_tiers_capacity": (
            "Tiers: hot = the {n} most likely leads that are not dormant (the team's capacity: call "
            "now), warm from {warm} chance of SQL (a touch soon), cold below (nurture)."
        ),
        "tier_hot": "Hot",
        "tier_warm": "Warm",
        "tier_cold": "Cold",
    },
    "fr": {
        "colon": "\u00a0: ",  # French puts a (non-breaking) space before a colon
        "title": "File de leads",
        "subtitle": "Leads scorés, les plus susceptibles de devenir SQL en premier",
        "as_of": "Au",
        "scored_at": "Scoré le",
        "owner": "Commercial",
        "search": "Rechercher",
        "search_placeholder": "Nom, entreprise ou identifiant",
        "tier": "Température",
        "source": "Source",
        "all": "Toutes",
        "show_dormant": "Afficher les leads dormants ({n})",
        "dormant": "Dormant",
        "dormant_hint": "Aucune activité depuis {days} jours ou plus : masqués sauf si vous cochez « Afficher les leads dormants ».",
        "leads_shown": "{shown} leads sur {total}",
        "no_leads": "Aucun lead ne correspond à ces filtres.",
        "load_more": "Afficher plus",
        "probability": "Chance de SQL",
        "probability_won": "Chance de gagner l'affaire",
        "points": "Points",
        "rank": "Rang",
        "close": "Fermer",
        "subscores": "D'où viennent les points",
        "reasons": "Pourquoi ce score",
        "base": "Lead moyen (entraînement)",
        "other": "Autres facteurs",
        "total": "Score",
        "activities": "Dernières activités",
        "no_activities": "Aucune activité enregistrée avant la date de scoring.",
        "model": "Modèle",
        "model_won": "modèle affaire gagnée",
        "version": "version",
        "company": "Entreprise",
        "employees": "salariés",
        "mql": "MQL",
        "unknown_company": "Entreprise inconnue",
        "pick_a_lead": "Choisissez un lead dans la file pour voir sa fiche.",
        "keyboard_hint": "Touches : ↑ ↓ pour se déplacer, Entrée pour ouvrir, Échap pour fermer, / pour chercher.",
        "help_title": "Comment lire ce score",
        "help_probability": (
            "Chance de SQL : la probabilité que ce lead devienne un lead qualifié par les ventes{window}. "
            "Sur 100 leads à 30 %, environ 30 le deviendront."
        ),
        "help_window": " dans les {days} jours",
        "help_points": (
            "Points : 50 correspond au lead ouvert moyen (les leads ouverts quand le modèle a été "
            "entraîné) ; chaque +20 points double les chances, chaque −20 les divise par deux. Les "
            "raisons montrent ce qui a ajouté ou retiré des points, du lead moyen appris par le "
            "modèle au score du lead."
        ),
        "help_tiers": "Températures : chaud = à appeler maintenant, tiède = à relancer bientôt, froid = à nourrir.",
        "help_tiers_thresholds": (
            "Températures : chaud à partir de {hot} de chance de SQL (à appeler maintenant), tiède à partir de "
            "{warm} (à relancer bientôt), froid en dessous (à nourrir)."
        ),
        "help_tiers_capacity": (
            "Températures : chaud = les {n} leads non dormants les plus probables (la capacité de "
            "l'équipe : à appeler maintenant), tiède à partir de {warm} de chance de SQL (à relancer "
            "bientôt), froid en dessous (à nourrir)."
        ),
        "tier_hot": "Chaud",
        "tier_warm": "Tiède",
        "tier_cold": "Froid",
    },
}


def labels(lang: Lang) -> dict[str, str]:
    """Every UI string of the report in ``lang`` (a new dict: callers may fill it in)."""
    words = dict(_UI[check_lang(lang)])
    words.update({f"family_{f}": in_lang(pair, lang) for f, pair in FAMILY_LABELS.items()})
    return words


def event_label(event_type: str, lang: Lang) -> str:
    """Words for an event type, e.g. ``event_label("demo_request", "fr") == "A demandé une démo"``."""
    words = EVENTS.get(event_type)
    if words is None:
        return readable(str(event_type))
    return in_lang(words.activity, lang)


def source_label(source: str, lang: Lang) -> str:
    """Words for an acquisition channel, e.g. ``source_label("referral", "en") == "Referral"``."""
    pair = SOURCES.get(source)
    if pair is None:
        return readable(str(source))
    return in_lang(pair, lang)


def code_label(table: dict[str, tuple[str, str]], code: str, lang: Lang) -> str:
    """Words for a code of ``table`` (:mod:`leadml.vocabulary`); the code made readable if unknown."""
    pair = table.get(str(code))
    if pair is None:
        return readable(str(code))
    return in_lang(pair, lang)


def industry_label(industry: str, lang: Lang) -> str:
    """Words for an industry, e.g. ``industry_label("public_sector", "fr") == "Secteur public"``."""
    return code_label(INDUSTRIES, industry, lang)


def seniority_label(seniority: str, lang: Lang) -> str:
    """Words for a seniority, e.g. ``seniority_label("c_level", "en") == "C-level"``."""
    return code_label(SENIORITY, seniority, lang)

"""The words on the lead cards, in English and French.

``labels(lang)`` returns every UI string the page needs; ``event_label`` and
``source_label`` turn the data's codes (``pricing_view``, ``demo_form``) into
words a sales rep reads. Unknown codes fall back to the code made readable,
so a new event type never breaks a report.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["LANGS", "Lang", "check_lang", "event_label", "labels", "source_label"]

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")

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
        "base": "Average lead",
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
            "Points: 50 is an average lead; every +20 points doubles the odds, every −20 halves them. "
            "The reasons show what added or removed points, from the average lead to this lead's score."
        ),
        "help_tiers": "Tiers: hot = call now, warm = worth a touch soon, cold = nurture.",
        "help_tiers_thresholds": (
            "Tiers: hot from {hot} chance of SQL (call now), warm from {warm} (a touch soon), "
            "cold below (nurture)."
        ),
        "tier_hot": "Hot",
        "tier_warm": "Warm",
        "tier_cold": "Cold",
        "family_fit": "Company fit",
        "family_persona": "Persona",
        "family_behaviour": "Behaviour",
        "family_intent": "Intent",
        "family_other": "Other",
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
        "base": "Lead moyen",
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
            "Points : 50 correspond à un lead moyen ; chaque +20 points double les chances, chaque −20 les divise "
            "par deux. Les raisons montrent ce qui a ajouté ou retiré des points, du lead moyen au score du lead."
        ),
        "help_tiers": "Températures : chaud = à appeler maintenant, tiède = à relancer bientôt, froid = à nourrir.",
        "help_tiers_thresholds": (
            "Températures : chaud à partir de {hot} de chance de SQL (à appeler maintenant), tiède à partir de "
            "{warm} (à relancer bientôt), froid en dessous (à nourrir)."
        ),
        "tier_hot": "Chaud",
        "tier_warm": "Tiède",
        "tier_cold": "Froid",
        "family_fit": "Adéquation entreprise",
        "family_persona": "Persona",
        "family_behaviour": "Comportement",
        "family_intent": "Intention",
        "family_other": "Autre",
    },
}

_EVENTS: dict[str, tuple[str, str]] = {
    "pricing_view": ("Viewed the pricing page", "A consulté la page tarifs"),
    "demo_page_view": ("Viewed the demo page", "A consulté la page démo"),
    "product_page_view": ("Viewed a product page", "A consulté une page produit"),
    "blog_view": ("Read a blog post", "A lu un article de blog"),
    "email_open": ("Opened an email", "A ouvert un e-mail"),
    "email_click": ("Clicked a link in an email", "A cliqué sur un lien d'un e-mail"),
    "whitepaper_download": ("Downloaded a white paper", "A téléchargé un livre blanc"),
    "webinar_registration": ("Registered for a webinar", "S'est inscrit à un webinaire"),
    "webinar_attended": ("Attended a webinar", "A assisté à un webinaire"),
    "form_submit": ("Submitted a form", "A envoyé un formulaire"),
    "demo_request": ("Requested a demo", "A demandé une démo"),
    "sales_touch": ("Contacted by sales", "Contacté par un commercial"),
    "meeting": ("Had a meeting", "A eu un rendez-vous"),
    "unsubscribe": ("Unsubscribed from emails", "S'est désabonné des e-mails"),
    "email_bounce": ("An email bounced", "Un e-mail est revenu en erreur"),
}

_SOURCES: dict[str, tuple[str, str]] = {
    "demo_form": ("Demo form", "Formulaire de démo"),
    "referral": ("Referral", "Recommandation"),
    "organic_search": ("Organic search", "Recherche naturelle"),
    "webinar": ("Webinar", "Webinaire"),
    "content_download": ("Content download", "Téléchargement de contenu"),
    "paid_search": ("Paid search", "Recherche payante"),
    "paid_social": ("Paid social", "Réseaux sociaux payants"),
    "trade_show": ("Trade show", "Salon"),
    "purchased_list": ("Purchased list", "Liste achetée"),
    "outbound": ("Outbound", "Prospection sortante"),
}


def check_lang(lang: str) -> Lang:
    """``lang`` itself when supported; a ValueError naming the allowed values otherwise."""
    if lang not in LANGS:
        raise ValueError(f"You provided lang={lang!r}. Possible values are: {list(LANGS)}")
    return lang  # type: ignore[return-value]


def labels(lang: Lang) -> dict[str, str]:
    """Every UI string of the report in ``lang`` (a new dict: callers may fill it in)."""
    return dict(_UI[check_lang(lang)])


def _readable(code: str) -> str:
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def event_label(event_type: str, lang: Lang) -> str:
    """Words for an event type, e.g. ``event_label("demo_request", "fr") == "A demandé une démo"``."""
    pair = _EVENTS.get(event_type)
    if pair is None:
        return _readable(str(event_type))
    return pair[LANGS.index(check_lang(lang))]


def source_label(source: str, lang: Lang) -> str:
    """Words for an acquisition channel, e.g. ``source_label("referral", "en") == "Referral"``."""
    pair = _SOURCES.get(source)
    if pair is None:
        return _readable(str(source))
    return pair[LANGS.index(check_lang(lang))]

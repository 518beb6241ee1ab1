"""The words of leadml, in English and French: families, event types, intent signals,
sources, roles, regions, and how numbers and codes are written for people.

The one home for every code a rep reads: the feature catalogue takes an event
type's signal group from here, the reason texts its sentence, the lead cards
its activity line. Adding an event type is one :data:`EVENTS` entry; an event
type without one still works (its group is its own name, its words the code
made readable).

>>> EVENTS["demo_request"].done[LANGS.index("fr")]
'A demandé une démo'
>>> format_number(1234.5, "fr")
'1\u202f234,5'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "DEPARTMENTS",
    "EVENTS",
    "FAMILIES",
    "FAMILY_LABELS",
    "GROUP_LABELS",
    "LANGS",
    "REGIONS",
    "SENIORITY",
    "SIGNALS",
    "SOURCES",
    "EventWords",
    "Direction",
    "INDUSTRIES",
    "Lang",
    "SignalWords",
    "check_lang",
    "event_group",
    "event_types_of",
    "format_number",
    "in_lang",
    "is_missing",
    "plain_words",
    "readable",
    "signal_group",
    "signal_types_of",
    "value_text",
]

Lang = Literal["en", "fr"]
# The declared effect of more of a feature on conversion: "+" never lowers a score, "-" never
# raises it (LightGBM monotone constraints, and reasons whose sign contradicts it are hidden).
Direction = Literal["+", "-"]
LANGS: tuple[Lang, ...] = ("en", "fr")
# A pair of words is always (English, French), in the order of LANGS.
Words = tuple[str, str]

FAMILIES: tuple[str, ...] = ("fit", "persona", "behaviour", "intent")
FAMILY_LABELS: dict[str, Words] = {
    "fit": ("Company fit", "Adéquation entreprise"),
    "persona": ("Persona", "Persona"),
    "behaviour": ("Behaviour", "Comportement"),
    "intent": ("Intent", "Intention"),
    "other": ("Other", "Autre"),
}


@dataclass(frozen=True)
class EventWords:
    """How one event type reads.

    ``done`` / ``never`` start a reason ("Visited the pricing page" + " 3 times in
    the last 7 days"); ``activity`` is one event on a lead card ("Viewed the
    pricing page"). One-off actions (``recency_first``) are best told by their
    recency ("requested a demo 2 days ago"), repeated ones by a count in a window.
    ``direction`` is the declared effect of more of it on conversion ("+": more never
    lowers a score, "-": more never raises it, None: no claim). ``quiet`` tells a lead
    that has gone quiet ("No email opened for {span}"): an action older than the count
    windows is told as the silence since, not as news.
    """

    group: str
    done: Words
    never: Words
    activity: Words
    recency_first: bool = False
    direction: Direction | None = None
    quiet: Words | None = None


@dataclass(frozen=True)
class SignalWords:
    """How one intent signal type reads: its ``name``, the sentence when it never happened and,
    ``quiet``, the one when the last was longer ago than the count windows."""

    group: str
    name: Words
    never: Words
    direction: Direction | None = None
    quiet: Words | None = None


EVENTS: dict[str, EventWords] = {
    "pricing_view": EventWords(
        "pricing_interest",
        done=("Visited the pricing page", "A consulté la page tarifs"),
        never=("Never visited the pricing page", "N'a jamais consulté la page tarifs"),
        activity=("Viewed the pricing page", "A consulté la page tarifs"),
        direction="+",
        quiet=("No pricing page visit for {span}", "Aucune visite de la page tarifs depuis {span}"),
    ),
    "demo_page_view": EventWords(
        "demo_page_interest",
        done=("Viewed the demo page", "A consulté la page démo"),
        never=("Never viewed the demo page", "N'a jamais consulté la page démo"),
        activity=("Viewed the demo page", "A consulté la page démo"),
        direction="+",
        quiet=("No demo page view for {span}", "Aucune consultation de la page démo depuis {span}"),
    ),
    "product_page_view": EventWords(
        "product_interest",
        done=("Viewed product pages", "A consulté les pages produit"),
        never=("Never viewed a product page", "N'a jamais consulté de page produit"),
        activity=("Viewed a product page", "A consulté une page produit"),
        direction="+",
        quiet=(
            "No product page view for {span}",
            "Aucune consultation des pages produit depuis {span}",
        ),
    ),
    "blog_view": EventWords(
        "blog_reading",
        done=("Read the blog", "A lu le blog"),
        never=("Never read the blog", "N'a jamais lu le blog"),
        activity=("Read a blog post", "A lu un article de blog"),
        quiet=("No blog reading for {span}", "Aucune lecture du blog depuis {span}"),
    ),
    "email_open": EventWords(
        "email_engagement",
        done=("Opened our emails", "A ouvert nos e-mails"),
        never=("Never opened our emails", "N'a jamais ouvert nos e-mails"),
        activity=("Opened an email", "A ouvert un e-mail"),
        direction="+",
        quiet=("No email opened for {span}", "Aucun e-mail ouvert depuis {span}"),
    ),
    "email_click": EventWords(
        "email_engagement",
        done=("Clicked in our emails", "A cliqué dans nos e-mails"),
        never=("Never clicked in our emails", "N'a jamais cliqué dans nos e-mails"),
        activity=("Clicked a link in an email", "A cliqué sur un lien d'un e-mail"),
        direction="+",
        quiet=("No email click for {span}", "Aucun clic dans nos e-mails depuis {span}"),
    ),
    "whitepaper_download": EventWords(
        "content_download",
        done=("Downloaded a white paper", "A téléchargé un livre blanc"),
        never=("Never downloaded a white paper", "N'a jamais téléchargé de livre blanc"),
        activity=("Downloaded a white paper", "A téléchargé un livre blanc"),
        recency_first=True,
        direction="+",
        quiet=(
            "No white paper downloaded for {span}",
            "Aucun livre blanc téléchargé depuis {span}",
        ),
    ),
    "webinar_registration": EventWords(
        "webinar",
        done=("Registered for a webinar", "S'est inscrit à un webinaire"),
        never=("Never registered for a webinar", "Ne s'est jamais inscrit à un webinaire"),
        activity=("Registered for a webinar", "S'est inscrit à un webinaire"),
        recency_first=True,
        direction="+",
        quiet=(
            "No webinar registration for {span}",
            "Aucune inscription à un webinaire depuis {span}",
        ),
    ),
    "webinar_attended": EventWords(
        "webinar",
        done=("Attended a webinar", "A assisté à un webinaire"),
        never=("Never attended a webinar", "N'a jamais assisté à un webinaire"),
        activity=("Attended a webinar", "A assisté à un webinaire"),
        recency_first=True,
        direction="+",
        quiet=("No webinar attended for {span}", "Aucun webinaire suivi depuis {span}"),
    ),
    "form_submit": EventWords(
        "form_submission",
        done=("Submitted a form", "A rempli un formulaire"),
        never=("Never submitted a form", "N'a jamais rempli de formulaire"),
        activity=("Submitted a form", "A envoyé un formulaire"),
        recency_first=True,
        direction="+",
        quiet=("No form submitted for {span}", "Aucun formulaire envoyé depuis {span}"),
    ),
    "demo_request": EventWords(
        "demo_request",
        done=("Requested a demo", "A demandé une démo"),
        never=("Never requested a demo", "N'a jamais demandé de démo"),
        activity=("Requested a demo", "A demandé une démo"),
        recency_first=True,
        direction="+",
        quiet=(
            "Requested a demo {ago}, with no progress since",
            "A demandé une démo {ago}, sans suite depuis",
        ),
    ),
    "sales_touch": EventWords(
        "sales_touches",
        done=("Contacted by sales", "Contacté par un commercial"),
        never=("Not contacted by sales yet", "Pas encore contacté par un commercial"),
        activity=("Contacted by sales", "Contacté par un commercial"),
        quiet=("No sales contact for {span}", "Aucun contact commercial depuis {span}"),
    ),
    "meeting": EventWords(
        "meeting",
        done=("Had a meeting", "A eu un rendez-vous"),
        never=("No meeting yet", "Aucun rendez-vous pour l'instant"),
        activity=("Had a meeting", "A eu un rendez-vous"),
        recency_first=True,
        direction="+",
        quiet=("No meeting for {span}", "Aucun rendez-vous depuis {span}"),
    ),
    "unsubscribe": EventWords(
        "unsubscribe",
        done=("Unsubscribed", "S'est désabonné"),
        never=("Never unsubscribed", "Ne s'est jamais désabonné"),
        activity=("Unsubscribed from emails", "S'est désabonné des e-mails"),
        recency_first=True,
        direction="-",
    ),
    "email_bounce": EventWords(
        "email_bounce",
        done=("Email bounced", "E-mail rejeté"),
        never=("No email bounce", "Aucun e-mail rejeté"),
        activity=("An email bounced", "Un e-mail est revenu en erreur"),
        recency_first=True,
        direction="-",
    ),
}

SIGNALS: dict[str, SignalWords] = {
    "funding_round": SignalWords(
        "recent_funding",
        name=("Funding round", "Levée de fonds"),
        never=("No funding round on record", "Aucune levée de fonds connue"),
        direction="+",
        quiet=("No funding round for {span}", "Aucune levée de fonds depuis {span}"),
    ),
    "hiring_surge": SignalWords(
        "hiring_surge",
        name=("Hiring surge", "Vague de recrutement"),
        never=("No hiring surge on record", "Aucune vague de recrutement connue"),
        direction="+",
        quiet=("No hiring surge for {span}", "Aucune vague de recrutement depuis {span}"),
    ),
    "new_executive": SignalWords(
        "new_executive",
        name=("New executive", "Nouveau dirigeant"),
        never=("No new executive on record", "Aucun nouveau dirigeant connu"),
        direction="+",
        quiet=("No new executive for {span}", "Aucun nouveau dirigeant depuis {span}"),
    ),
    "technology_change": SignalWords(
        "technology_change",
        name=("Technology change", "Changement technologique"),
        never=("No technology change on record", "Aucun changement technologique connu"),
        quiet=("No technology change for {span}", "Aucun changement technologique depuis {span}"),
    ),
    "topic_surge": SignalWords(
        "topic_research",
        name=("Research surge on our topics", "Recherches accrues sur nos sujets"),
        never=("No research surge on our topics", "Aucune recherche accrue sur nos sujets"),
        quiet=(
            "No research surge on our topics for {span}",
            "Aucune recherche accrue sur nos sujets depuis {span}",
        ),
    ),
}

# Signal groups as a reader names them (feature catalogue, learned grid, flat labels).
GROUP_LABELS: dict[str, str] = {
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

# Acquisition channels, as a label (a card's filter); a sentence uses them in lower case.
SOURCES: dict[str, Words] = {
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
SENIORITY: dict[str, Words] = {
    "c_level": ("C-level", "C-level"),
    "vp": ("VP", "VP"),
    "director": ("Director", "Directeur"),
    "manager": ("Manager", "Manager"),
    "individual_contributor": ("Individual contributor", "Contributeur individuel"),
    "student": ("Student", "Étudiant"),
}
# Departments as they follow "in" / "en" in a sentence.
DEPARTMENTS: dict[str, Words] = {
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
# Industries as a label (a card's filter, a reason).
INDUSTRIES: dict[str, Words] = {
    "software": ("Software", "Logiciel"),
    "financial_services": ("Financial services", "Services financiers"),
    "manufacturing": ("Manufacturing", "Industrie"),
    "retail": ("Retail", "Commerce de détail"),
    "healthcare": ("Healthcare", "Santé"),
    "professional_services": ("Professional services", "Services professionnels"),
    "education": ("Education", "Éducation"),
    "public_sector": ("Public sector", "Secteur public"),
    "media": ("Media", "Médias"),
    "logistics": ("Logistics", "Logistique"),
}
REGIONS: dict[str, Words] = {
    "north_america": ("North America", "Amérique du Nord"),
    "latin_america": ("Latin America", "Amérique latine"),
    "europe": ("Europe", "Europe"),
    "middle_east_africa": ("Middle East & Africa", "Moyen-Orient et Afrique"),
    "asia_pacific": ("Asia-Pacific", "Asie-Pacifique"),
    "other": ("other region", "autre région"),
}

_THOUSANDS = {"en": ",", "fr": "\u202f"}  # French: a narrow no-break space
_DECIMAL = {"en": ".", "fr": ","}


# --- languages -------------------------------------------------------------------------
def check_lang(lang: str) -> Lang:
    """``lang`` itself when supported; a ValueError naming the allowed values otherwise."""
    if lang not in LANGS:
        raise ValueError(f"You provided lang={lang!r}. Possible values are: {list(LANGS)}")
    return lang  # type: ignore[return-value]


def in_lang(words: Words, lang: Lang) -> str:
    """The word of an (English, French) pair in ``lang``."""
    return words[LANGS.index(check_lang(lang))]


# --- codes -------------------------------------------------------------------------------
def event_group(event_type: str) -> str:
    """The signal group an event type feeds (its own name when it has no :data:`EVENTS` entry)."""
    words = EVENTS.get(event_type)
    return event_type if words is None else words.group


def signal_group(signal_type: str) -> str:
    """The signal group an intent signal type feeds (its own name when unknown)."""
    words = SIGNALS.get(signal_type)
    return signal_type if words is None else words.group


def event_types_of(group: str) -> list[str]:
    """The known event types feeding ``group``, in :data:`EVENTS` order."""
    return [t for t, words in EVENTS.items() if words.group == group]


def signal_types_of(group: str) -> list[str]:
    """The known intent signal types feeding ``group``, in :data:`SIGNALS` order."""
    return [t for t, words in SIGNALS.items() if words.group == group]


def plain_words(code: Any) -> str:
    """A code as words in a sentence: ``"paid_search"`` -> ``"paid search"``."""
    return str(code).replace("_", " ").strip()


def readable(code: str) -> str:
    """A code as a label: ``"lead_age.days"`` -> ``"Lead age days"`` (first letter capitalised)."""
    text = str(code).replace("_", " ").replace(".", " ").strip()
    return text[:1].upper() + text[1:]


# --- numbers and values ----------------------------------------------------------------
def is_missing(value: Any) -> bool:
    """None, NA, NaT or a float NaN."""
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


def value_text(value: Any, lang: Lang) -> str:
    """Any single value as a reader sees it: "unknown", "yes"/"no", "1,234.568", or the text."""
    if is_missing(value):
        return "unknown" if lang == "en" else "inconnu"
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no") if lang == "en" else ("oui" if value else "non")
    if isinstance(value, int | float | np.integer | np.floating):
        value = float(value)
        return format_number(value, lang, decimals=0 if value.is_integer() else 3)
    return str(value)

"""Reason texts: plain words from the lead's own values, English and French."""

from __future__ import annotations

import numpy as np
import pytest

from leadml.config import load_dataset_config
from leadml.explain.reasons import format_number, reason_text
from leadml.features import event_catalogue

NAN = float("nan")
NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("group", "values", "en", "fr"),
    [
        (
            "demo_request",
            {"n_demo_request_7d": 1, "days_since_demo_request": 2.4},
            "Requested a demo 2 days ago",
            "A demandé une démo il y a 2 jours",
        ),
        (
            "pricing_interest",
            {
                "n_pricing_view_7d": 3,
                "n_pricing_view_30d": 5,
                "n_pricing_view_90d": 5,
                "days_since_pricing_view": 1.5,
            },
            "Visited the pricing page 3 times in the last 7 days",
            "A consulté la page tarifs 3 fois ces 7 derniers jours",
        ),
        (
            "pricing_interest",
            {
                "n_pricing_view_7d": 0,
                "n_pricing_view_30d": 1,
                "n_pricing_view_90d": 1,
                "days_since_pricing_view": 12.0,
            },
            "Visited the pricing page 1 time in the last 30 days",
            "A consulté la page tarifs 1 fois ces 30 derniers jours",
        ),
        (
            "pricing_interest",
            {"n_pricing_view_7d": 0, "days_since_pricing_view": NAN},
            "Never visited the pricing page",
            "N'a jamais consulté la page tarifs",
        ),
        (
            "company_size",
            {"employees": 1200.0, "size_in_range": 1.0},
            "Company of 1,200 employees",
            f"Entreprise de 1{NNBSP}200 salariés",
        ),
        ("company_size", {"employees": 1.0}, "Company of 1 employee", "Entreprise de 1 salarié"),
        (
            "company_size",
            {"employees": NAN},
            "Company size unknown",
            "Taille de l'entreprise inconnue",
        ),
        (
            "inactivity",
            {"days_since_last_activity": 45.7},
            "No activity for 45 days",
            "Aucune activité depuis 45 jours",
        ),
        ("inactivity", {"days_since_last_activity": 0.3}, "Active today", "Actif aujourd'hui"),
        (
            "inactivity",
            {"days_since_last_activity": 1.2},
            "Last active yesterday",
            "Dernière activité hier",
        ),
        (
            "email_validity",
            {"email_status": "invalid"},
            "Invalid email address",
            "Adresse e-mail invalide",
        ),
        (
            "email_validity",
            {"email_status": None},
            "Email address not verified",
            "Adresse e-mail non vérifiée",
        ),
        (
            "recent_funding",
            {"n_funding_round_180d": 1, "days_since_funding_round": 12.2},
            "Funding round 12 days ago",
            "Levée de fonds il y a 12 jours",
        ),
        (
            "recent_funding",
            {"days_since_funding_round": 0.5},
            "Funding round today",
            "Levée de fonds aujourd'hui",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": 63.1},
            "First sales contact after 63 hours",
            "Premier contact commercial après 63 heures",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": NAN},
            "Not contacted by sales yet",
            "Pas encore contacté par un commercial",
        ),
        ("source", {"source": "referral"}, "Source: referral", "Source : recommandation"),
        ("source", {"source": None}, "Source unknown", "Source inconnue"),
        (
            "authority",
            {"seniority": "c_level", "department": "it", "decision_maker": 1.0},
            "C-level in IT (decision maker)",
            "C-level en IT (décideur)",
        ),
        (
            "authority",
            {"seniority": "manager", "department": None, "decision_maker": 0.0},
            "Manager",
            "Manager",
        ),
        ("lead_age", {"lead_age_days": 1.0}, "Lead created yesterday", "Lead créé hier"),
        (
            "account_activity",
            {"account_other_leads": 2.0, "account_other_events_30d": 1.0},
            "2 other contacts at this company, 1 action in the last 30 days",
            "2 autres contacts dans cette entreprise, 1 action ces 30 derniers jours",
        ),
        (
            "revenue",
            {"annual_revenue": 12_500_000.0},
            "Annual revenue of 12.5 million",
            "Chiffre d'affaires annuel de 12,5 millions",
        ),
    ],
)
def test_sentences_in_both_languages(group, values, en, fr) -> None:
    assert reason_text(group, values, "en") == en
    assert reason_text(group, values, "fr") == fr


def test_points_do_not_change_the_words() -> None:
    values = {"days_since_last_activity": 45.0}
    assert reason_text("inactivity", values, points=-12.0) == reason_text(
        "inactivity", values, points=8.0
    )


def test_flat_groups_read_label_and_value() -> None:
    assert (
        reason_text("euribor3m", {"euribor3m": 4.857}, "en", label="Euribor 3 months")
        == "Euribor 3 months: 4.857"
    )
    assert (
        reason_text("euribor3m", {"euribor3m": 4.857}, "fr", label="Euribor 3 months")
        == "Euribor 3 months: 4,857"
    )
    assert reason_text("job", {"job": NAN}, "en", label="Job") == "Job: unknown"


def test_numbers_for_people() -> None:
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(1234567, "fr") == f"1{NNBSP}234{NNBSP}567"
    assert format_number(2.5, "fr") == "2,5"
    assert reason_text(
        "pricing_interest", {"n_pricing_view_7d": 1200, "days_since_pricing_view": 0.1}
    ) == ("Visited the pricing page 1,200 times in the last 7 days")


def test_every_group_reads_well_with_real_and_missing_values() -> None:
    dataset = load_dataset_config("training/dataset.yaml")
    catalogue = event_catalogue(dataset)
    rng = np.random.default_rng(0)
    typical = {
        e.name: (
            "c_level"
            if e.name == "seniority"
            else "it"
            if e.name == "department"
            else "software"
            if e.name == "industry"
            else "FR"
            if e.name == "country"
            else "europe"
            if e.name == "region"
            else "valid"
            if e.name == "email_status"
            else "referral"
            if e.name == "source"
            else None
        )
        if e.kind == "categorical"
        else float(rng.integers(0, 40))
        for e in catalogue
    }
    for group in catalogue.groups:
        members = catalogue.group_features(group)
        for values in (
            {m: typical[m] for m in members},
            {m: (None if catalogue[m].kind == "categorical" else NAN) for m in members},
        ):
            for lang in ("en", "fr"):
                text = reason_text(group, values, lang)
                assert text and (text[0].isupper() or text[0].isdigit()), (group, lang, text)
                assert "nan" not in text.lower().split() and "None" not in text, (group, lang, text)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="lang must be 'en' or 'fr'; got 'de'"):
        reason_text("source", {"source": "referral"}, "de")  # type: ignore[arg-type]


# Every group's sentence, read and checked by a person, for one set of values and for missing
# values (English then French). The values: integers drawn once with seed 0, the categoricals
# below; a change of wording must show up here.
SENTENCES = {
    "industry": ("Industry: software", "Secteur : logiciel", "Industry unknown", "Secteur inconnu"),
    "company_size": (
        "Company of 34 employees",
        "Entreprise de 34 salariés",
        "Company size unknown",
        "Taille de l'entreprise inconnue",
    ),
    "revenue": (
        "Annual revenue of 20",
        "Chiffre d'affaires annuel de 20",
        "Revenue unknown",
        "Chiffre d'affaires inconnu",
    ),
    "geography": ("Country: FR (Europe)", "Pays : FR (Europe)", "Country unknown", "Pays inconnu"),
    "icp_fit": (
        "Matches the ideal customer profile",
        "Correspond au profil client idéal",
        "Fit with the ideal customer profile unknown",
        "Adéquation au profil client idéal inconnue",
    ),
    "authority": ("C-level in IT", "C-level en IT", "Role unknown", "Fonction inconnue"),
    "email_validity": (
        "Valid email address",
        "Adresse e-mail valide",
        "Email address not verified",
        "Adresse e-mail non vérifiée",
    ),
    "pricing_interest": (
        "Visited the pricing page 7 times in the last 7 days",
        "A consulté la page tarifs 7 fois ces 7 derniers jours",
        "Never visited the pricing page",
        "N'a jamais consulté la page tarifs",
    ),
    "demo_page_interest": (
        "Viewed the demo page 20 times in the last 7 days",
        "A consulté la page démo 20 fois ces 7 derniers jours",
        "Never viewed the demo page",
        "N'a jamais consulté la page démo",
    ),
    "product_interest": (
        "Viewed product pages 25 times in the last 7 days",
        "A consulté les pages produit 25 fois ces 7 derniers jours",
        "Never viewed a product page",
        "N'a jamais consulté de page produit",
    ),
    "blog_reading": (
        "Read the blog 11 times in the last 7 days",
        "A lu le blog 11 fois ces 7 derniers jours",
        "Never read the blog",
        "N'a jamais lu le blog",
    ),
    "email_engagement": (
        "Opened our emails 15 times in the last 7 days; clicked in our emails 30 times in the last 7 days",
        "A ouvert nos e-mails 15 fois ces 7 derniers jours ; a cliqué dans nos e-mails 30 fois ces 7 derniers jours",
        "Never opened our emails",
        "N'a jamais ouvert nos e-mails",
    ),
    "content_download": (
        "Downloaded a white paper 21 days ago",
        "A téléchargé un livre blanc il y a 21 jours",
        "Never downloaded a white paper",
        "N'a jamais téléchargé de livre blanc",
    ),
    "webinar": (
        "Registered for a webinar 16 days ago; attended a webinar 4 days ago",
        "S'est inscrit à un webinaire il y a 16 jours ; a assisté à un webinaire il y a 4 jours",
        "Never registered for a webinar",
        "Ne s'est jamais inscrit à un webinaire",
    ),
    "form_submission": (
        "Submitted a form 25 days ago",
        "A rempli un formulaire il y a 25 jours",
        "Never submitted a form",
        "N'a jamais rempli de formulaire",
    ),
    "demo_request": (
        "Requested a demo 15 days ago",
        "A demandé une démo il y a 15 jours",
        "Never requested a demo",
        "N'a jamais demandé de démo",
    ),
    "sales_touches": (
        "Contacted by sales 18 times in the last 7 days",
        "Contacté par un commercial 18 fois ces 7 derniers jours",
        "Not contacted by sales yet",
        "Pas encore contacté par un commercial",
    ),
    "meeting": (
        "Had a meeting 26 days ago",
        "A eu un rendez-vous il y a 26 jours",
        "No meeting yet",
        "Aucun rendez-vous pour l'instant",
    ),
    "unsubscribe": (
        "Unsubscribed 15 days ago",
        "S'est désabonné il y a 15 jours",
        "Never unsubscribed",
        "Ne s'est jamais désabonné",
    ),
    "email_bounce": (
        "Email bounced 28 days ago",
        "E-mail rejeté il y a 28 jours",
        "No email bounce",
        "Aucun e-mail rejeté",
    ),
    "engagement": (
        "Active on 33 days in the last 90 days, engagement rising",
        "Actif 33 jours ces 90 derniers jours, engagement en hausse",
        "No engagement in the last 90 days",
        "Aucun engagement ces 90 derniers jours",
    ),
    "lead_age": (
        "Lead created 12 days ago",
        "Lead créé il y a 12 jours",
        "Lead age unknown",
        "Ancienneté du lead inconnue",
    ),
    "source": ("Source: referral", "Source : recommandation", "Source unknown", "Source inconnue"),
    "speed_to_lead": (
        "First sales contact after 16 hours",
        "Premier contact commercial après 16 heures",
        "Not contacted by sales yet",
        "Pas encore contacté par un commercial",
    ),
    "inactivity": (
        "No activity for 19 days",
        "Aucune activité depuis 19 jours",
        "No activity yet",
        "Aucune activité pour l'instant",
    ),
    "recent_funding": (
        "Funding round 37 days ago (2 in the last 180 days)",
        "Levée de fonds il y a 37 jours (2 ces 180 derniers jours)",
        "No funding round on record",
        "Aucune levée de fonds connue",
    ),
    "hiring_surge": (
        "Hiring surge 22 days ago (26 in the last 180 days)",
        "Vague de recrutement il y a 22 jours (26 ces 180 derniers jours)",
        "No hiring surge on record",
        "Aucune vague de recrutement connue",
    ),
    "new_executive": (
        "New executive 23 days ago (28 in the last 180 days)",
        "Nouveau dirigeant il y a 23 jours (28 ces 180 derniers jours)",
        "No new executive on record",
        "Aucun nouveau dirigeant connu",
    ),
    "technology_change": (
        "Technology change 15 days ago (30 in the last 180 days)",
        "Changement technologique il y a 15 jours (30 ces 180 derniers jours)",
        "No technology change on record",
        "Aucun changement technologique connu",
    ),
    "topic_research": (
        "Research surge on our topics 9 days ago (10 in the last 180 days)",
        "Recherches accrues sur nos sujets il y a 9 jours (10 ces 180 derniers jours)",
        "No research surge on our topics",
        "Aucune recherche accrue sur nos sujets",
    ),
    "intent_recency": (
        "Latest company signal 28 days ago",
        "Dernier signal entreprise il y a 28 jours",
        "No company signal on record",
        "Aucun signal entreprise connu",
    ),
    "account_activity": (
        "24 other contacts at this company, 1 action in the last 30 days",
        "24 autres contacts dans cette entreprise, 1 action ces 30 derniers jours",
        "Account activity unknown",
        "Activité du compte inconnue",
    ),
}


def test_every_group_reads_exactly_as_written_down() -> None:
    dataset = load_dataset_config("training/dataset.yaml")
    catalogue = event_catalogue(dataset)
    rng = np.random.default_rng(0)
    categorical = {
        "seniority": "c_level",
        "department": "it",
        "industry": "software",
        "country": "FR",
        "region": "europe",
        "email_status": "valid",
        "source": "referral",
    }
    typical = {
        e.name: (categorical.get(e.name) if e.kind == "categorical" else float(rng.integers(0, 40)))
        for e in catalogue
    }
    assert set(catalogue.groups) == set(SENTENCES)
    for group in catalogue.groups:
        members = catalogue.group_features(group)
        values = {m: typical[m] for m in members}
        missing = {m: (None if catalogue[m].kind == "categorical" else NAN) for m in members}
        got = tuple(reason_text(group, v, lang) for v in (values, missing) for lang in ("en", "fr"))
        assert got == SENTENCES[group], group


# The same for small values: every numeric feature 1.0 (singulars, "yesterday") or 0.4 (counts
# round to 0, "today", French singular for 0), other categoricals; English then French.
SMALL_VALUE_SENTENCES = {
    (1.0, "industry"): (
        "Industry: retail (target sector)",
        "Secteur : commerce de détail (secteur cible)",
    ),
    (1.0, "company_size"): ("Company of 1 employee", "Entreprise de 1 salarié"),
    (1.0, "revenue"): ("Annual revenue of 1", "Chiffre d'affaires annuel de 1"),
    (1.0, "geography"): ("Country: US (North America)", "Pays : US (Amérique du Nord)"),
    (1.0, "icp_fit"): ("Matches the ideal customer profile", "Correspond au profil client idéal"),
    (1.0, "authority"): ("VP in Sales (decision maker)", "VP en ventes (décideur)"),
    (1.0, "email_validity"): ("Risky email address", "Adresse e-mail à risque"),
    (1.0, "pricing_interest"): (
        "Visited the pricing page 1 time in the last 7 days",
        "A consulté la page tarifs 1 fois ces 7 derniers jours",
    ),
    (1.0, "demo_page_interest"): (
        "Viewed the demo page 1 time in the last 7 days",
        "A consulté la page démo 1 fois ces 7 derniers jours",
    ),
    (1.0, "product_interest"): (
        "Viewed product pages 1 time in the last 7 days",
        "A consulté les pages produit 1 fois ces 7 derniers jours",
    ),
    (1.0, "blog_reading"): (
        "Read the blog 1 time in the last 7 days",
        "A lu le blog 1 fois ces 7 derniers jours",
    ),
    (1.0, "email_engagement"): (
        "Opened our emails 1 time in the last 7 days; clicked in our emails 1 time in the last 7 days",
        "A ouvert nos e-mails 1 fois ces 7 derniers jours ; a cliqué dans nos e-mails 1 fois ces 7 derniers jours",
    ),
    (1.0, "content_download"): (
        "Downloaded a white paper yesterday",
        "A téléchargé un livre blanc hier",
    ),
    (1.0, "webinar"): (
        "Registered for a webinar yesterday; attended a webinar yesterday",
        "S'est inscrit à un webinaire hier ; a assisté à un webinaire hier",
    ),
    (1.0, "form_submission"): ("Submitted a form yesterday", "A rempli un formulaire hier"),
    (1.0, "demo_request"): ("Requested a demo yesterday", "A demandé une démo hier"),
    (1.0, "sales_touches"): (
        "Contacted by sales 1 time in the last 7 days",
        "Contacté par un commercial 1 fois ces 7 derniers jours",
    ),
    (1.0, "meeting"): ("Had a meeting yesterday", "A eu un rendez-vous hier"),
    (1.0, "unsubscribe"): ("Unsubscribed yesterday", "S'est désabonné hier"),
    (1.0, "email_bounce"): ("Email bounced yesterday", "E-mail rejeté hier"),
    (1.0, "engagement"): (
        "Active on 1 day in the last 90 days, engagement rising",
        "Actif 1 jour ces 90 derniers jours, engagement en hausse",
    ),
    (1.0, "lead_age"): ("Lead created yesterday", "Lead créé hier"),
    (1.0, "source"): ("Source: purchased list", "Source : liste achetée"),
    (1.0, "speed_to_lead"): (
        "First sales contact after 1 hour",
        "Premier contact commercial après 1 heure",
    ),
    (1.0, "inactivity"): ("Last active yesterday", "Dernière activité hier"),
    (1.0, "recent_funding"): ("Funding round yesterday", "Levée de fonds hier"),
    (1.0, "hiring_surge"): ("Hiring surge yesterday", "Vague de recrutement hier"),
    (1.0, "new_executive"): ("New executive yesterday", "Nouveau dirigeant hier"),
    (1.0, "technology_change"): ("Technology change yesterday", "Changement technologique hier"),
    (1.0, "topic_research"): (
        "Research surge on our topics yesterday",
        "Recherches accrues sur nos sujets hier",
    ),
    (1.0, "intent_recency"): ("Latest company signal yesterday", "Dernier signal entreprise hier"),
    (1.0, "account_activity"): (
        "1 other contact at this company, 1 action in the last 30 days",
        "1 autre contact dans cette entreprise, 1 action ces 30 derniers jours",
    ),
    (0.4, "industry"): ("Industry: retail", "Secteur : commerce de détail"),
    (0.4, "company_size"): ("Company of 0 employees", "Entreprise de 0 salarié"),
    (0.4, "revenue"): ("Annual revenue of 0.4", "Chiffre d'affaires annuel de 0,4"),
    (0.4, "geography"): ("Country: US (North America)", "Pays : US (Amérique du Nord)"),
    (0.4, "icp_fit"): ("Outside the ideal customer profile", "Hors du profil client idéal"),
    (0.4, "authority"): ("VP in Sales", "VP en ventes"),
    (0.4, "email_validity"): ("Risky email address", "Adresse e-mail à risque"),
    (0.4, "pricing_interest"): (
        "Visited the pricing page 0 times in the last 7 days",
        "A consulté la page tarifs 0 fois ces 7 derniers jours",
    ),
    (0.4, "demo_page_interest"): (
        "Viewed the demo page 0 times in the last 7 days",
        "A consulté la page démo 0 fois ces 7 derniers jours",
    ),
    (0.4, "product_interest"): (
        "Viewed product pages 0 times in the last 7 days",
        "A consulté les pages produit 0 fois ces 7 derniers jours",
    ),
    (0.4, "blog_reading"): (
        "Read the blog 0 times in the last 7 days",
        "A lu le blog 0 fois ces 7 derniers jours",
    ),
    (0.4, "email_engagement"): (
        "Opened our emails 0 times in the last 7 days; clicked in our emails 0 times in the last 7 days",
        "A ouvert nos e-mails 0 fois ces 7 derniers jours ; a cliqué dans nos e-mails 0 fois ces 7 derniers jours",
    ),
    (0.4, "content_download"): (
        "Downloaded a white paper today",
        "A téléchargé un livre blanc aujourd'hui",
    ),
    (0.4, "webinar"): (
        "Registered for a webinar today; attended a webinar today",
        "S'est inscrit à un webinaire aujourd'hui ; a assisté à un webinaire aujourd'hui",
    ),
    (0.4, "form_submission"): ("Submitted a form today", "A rempli un formulaire aujourd'hui"),
    (0.4, "demo_request"): ("Requested a demo today", "A demandé une démo aujourd'hui"),
    (0.4, "sales_touches"): (
        "Contacted by sales 0 times in the last 7 days",
        "Contacté par un commercial 0 fois ces 7 derniers jours",
    ),
    (0.4, "meeting"): ("Had a meeting today", "A eu un rendez-vous aujourd'hui"),
    (0.4, "unsubscribe"): ("Unsubscribed today", "S'est désabonné aujourd'hui"),
    (0.4, "email_bounce"): ("Email bounced today", "E-mail rejeté aujourd'hui"),
    (0.4, "engagement"): (
        "Active on 0 days in the last 90 days",
        "Actif 0 jour ces 90 derniers jours",
    ),
    (0.4, "lead_age"): ("Lead created today", "Lead créé aujourd'hui"),
    (0.4, "source"): ("Source: purchased list", "Source : liste achetée"),
    (0.4, "speed_to_lead"): (
        "First sales contact within the hour",
        "Premier contact commercial en moins d'une heure",
    ),
    (0.4, "inactivity"): ("Active today", "Actif aujourd'hui"),
    (0.4, "recent_funding"): ("Funding round today", "Levée de fonds aujourd'hui"),
    (0.4, "hiring_surge"): ("Hiring surge today", "Vague de recrutement aujourd'hui"),
    (0.4, "new_executive"): ("New executive today", "Nouveau dirigeant aujourd'hui"),
    (0.4, "technology_change"): ("Technology change today", "Changement technologique aujourd'hui"),
    (0.4, "topic_research"): (
        "Research surge on our topics today",
        "Recherches accrues sur nos sujets aujourd'hui",
    ),
    (0.4, "intent_recency"): (
        "Latest company signal today",
        "Dernier signal entreprise aujourd'hui",
    ),
    (0.4, "account_activity"): (
        "0 other contacts at this company, 0 actions in the last 30 days",
        "0 autre contact dans cette entreprise, 0 action ces 30 derniers jours",
    ),
}


def test_singulars_yesterday_and_today_read_exactly_as_written_down() -> None:
    catalogue = event_catalogue(load_dataset_config("training/dataset.yaml"))
    categorical = {
        "seniority": "vp",
        "department": "sales",
        "industry": "retail",
        "country": "US",
        "region": "north_america",
        "email_status": "risky",
        "source": "purchased_list",
    }
    for (value, group), expected in SMALL_VALUE_SENTENCES.items():
        values = {
            m: categorical.get(m) if catalogue[m].kind == "categorical" else value
            for m in catalogue.group_features(group)
        }
        assert tuple(reason_text(group, values, lang) for lang in ("en", "fr")) == expected, (
            value,
            group,
        )


def test_an_old_action_is_told_as_the_silence_since_not_as_news():
    old_opens = {"n_email_open_7d": 0, "n_email_open_90d": 0, "days_since_email_open": 1012.4}
    assert reason_text("email_engagement", old_opens, "en") == "No email opened for 33 months"
    assert reason_text("email_engagement", old_opens, "fr") == "Aucun e-mail ouvert depuis 33 mois"
    quiet_pricing = {"n_pricing_view_90d": 0, "days_since_pricing_view": 95.0}
    assert (
        reason_text("pricing_interest", quiet_pricing, "en") == "No pricing page visit for 3 months"
    )
    recent = {"n_pricing_view_7d": 3, "n_pricing_view_90d": 3, "days_since_pricing_view": 1.0}
    assert (
        reason_text("pricing_interest", recent, "en")
        == "Visited the pricing page 3 times in the last 7 days"
    )


def test_an_old_demo_request_that_never_progressed_says_so():
    old = {"n_demo_request_7d": 0, "n_demo_request_90d": 1, "days_since_demo_request": 45.2}
    assert (
        reason_text("demo_request", old, "en")
        == "Requested a demo 45 days ago, with no progress since"
    )
    assert (
        reason_text("demo_request", old, "fr")
        == "A demandé une démo il y a 45 jours, sans suite depuis"
    )
    fresh = {"n_demo_request_7d": 1, "n_demo_request_90d": 1, "days_since_demo_request": 2.0}
    assert reason_text("demo_request", fresh, "en") == "Requested a demo 2 days ago"


def test_an_old_company_signal_is_told_as_the_silence_since():
    old = {"n_new_executive_180d": 0, "days_since_new_executive": 860.0}
    assert reason_text("new_executive", old, "en") == "No new executive for 28 months"
    assert reason_text("new_executive", old, "fr") == "Aucun nouveau dirigeant depuis 28 mois"
    assert reason_text("intent_recency", {"days_since_intent": 400.0}, "en") == (
        "No company signal for 13 months"
    )
    assert reason_text("intent_recency", {"days_since_intent": 400.0}, "fr") == (
        "Aucun signal entreprise depuis 13 mois"
    )

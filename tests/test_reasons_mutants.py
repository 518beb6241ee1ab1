"""Reason sentences at their edges, worked out by hand: each branch, boundary and language.

Written for `make mutate` (issue 20): every case pins a branch, a threshold (``<`` against
``<=``), a word (singular, plural, capital) or a language of :mod:`leadml.explain.reasons`
that the sentences of ``test_reasons.py`` leave free.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.explain.explanation import canonical_reason_values
from leadml.explain.reasons import _span, reason_text

NAN = float("nan")
NNBSP = "\u202f"  # French thousands separator


@pytest.mark.parametrize(
    ("group", "values", "en", "fr"),
    [
        # engagement: no active day but a decayed score is "little", not "none"
        (
            "engagement",
            {"active_days_90d": 0, "engagement_decayed": 0.3, "engagement_trend": 0.0},
            "Little recent engagement",
            "Peu d'engagement récent",
        ),
        (
            "engagement",
            {"active_days_90d": 5, "engagement_decayed": 0.0, "engagement_trend": -0.7},
            "Active on 5 days in the last 90 days, engagement falling",
            "Actif 5 jours ces 90 derniers jours, engagement en baisse",
        ),
        # a trend of exactly ±0.5 is flat; one active day is singular in both languages
        (
            "engagement",
            {"active_days_90d": 1, "engagement_decayed": 0.0, "engagement_trend": 0.5},
            "Active on 1 day in the last 90 days",
            "Actif 1 jour ces 90 derniers jours",
        ),
        (
            "engagement",
            {"active_days_90d": 0, "engagement_decayed": 1.0, "engagement_trend": -0.5},
            "Little recent engagement",
            "Peu d'engagement récent",
        ),
        (
            "engagement",
            {"active_days_90d": NAN, "engagement_decayed": NAN, "engagement_trend": 0.9},
            "No engagement in the last 90 days",
            "Aucun engagement ces 90 derniers jours",
        ),
        # geography: an unknown region code in plain words; a country without a region
        (
            "geography",
            {"country": NAN, "region": "south_pole"},
            "Region: south pole",
            "Région : south pole",
        ),
        ("geography", {"country": "FR", "region": NAN}, "Country: FR", "Pays : FR"),
        (
            "geography",
            {"country": "DE", "region": "middle_earth"},
            "Country: DE (middle earth)",
            "Pays : DE (middle earth)",
        ),
        # a one-day count window
        (
            "pricing_interest",
            {"n_pricing_view_1d": 2, "n_pricing_view_7d": 2},
            "Visited the pricing page 2 times in the last day",
            "A consulté la page tarifs 2 fois ces dernières 24 heures",
        ),
        # inactivity: under 1 day today, under 2 yesterday, 2 days is "2 days"
        (
            "inactivity",
            {"days_since_last_activity": 2.0},
            "No activity for 2 days",
            "Aucune activité depuis 2 jours",
        ),
        (
            "inactivity",
            {"days_since_last_activity": 2.5},
            "No activity for 2 days",
            "Aucune activité depuis 2 jours",
        ),
        (
            "inactivity",
            {"days_since_last_activity": 1.0},
            "Last active yesterday",
            "Dernière activité hier",
        ),
        ("inactivity", {"days_since_last_activity": 0.99}, "Active today", "Actif aujourd'hui"),
        # industry: an unknown code in plain words, lower-cased after the colon
        (
            "industry",
            {"industry": "Space_mining", "industry_match": 0},
            "Industry: space mining",
            "Secteur : space mining",
        ),
        # intent recency: 180 days is already "no signal for", in months
        (
            "intent_recency",
            {"days_since_intent": 180.0},
            "No company signal for 5 months",
            "Aucun signal entreprise depuis 5 mois",
        ),
        (
            "intent_recency",
            {"days_since_intent": 179.0},
            "Latest company signal 179 days ago",
            "Dernier signal entreprise il y a 179 jours",
        ),
        # revenue: the scale starts at exactly 1e6 / 1e9; plural from 2 (French only)
        (
            "revenue",
            {"annual_revenue": 1e9},
            "Annual revenue of 1 billion",
            "Chiffre d'affaires annuel de 1 milliard",
        ),
        (
            "revenue",
            {"annual_revenue": 2.5e9},
            "Annual revenue of 2.5 billion",
            "Chiffre d'affaires annuel de 2,5 milliards",
        ),
        (
            "revenue",
            {"annual_revenue": 1e6},
            "Annual revenue of 1 million",
            "Chiffre d'affaires annuel de 1 million",
        ),
        (
            "revenue",
            {"annual_revenue": 2e6},
            "Annual revenue of 2 million",
            "Chiffre d'affaires annuel de 2 millions",
        ),
        (
            "revenue",
            {"annual_revenue": 2.5e6},
            "Annual revenue of 2.5 million",
            "Chiffre d'affaires annuel de 2,5 millions",
        ),
        # 1.96 million rounds to one decimal first: "2 millions", not "1.96"
        (
            "revenue",
            {"annual_revenue": 1.96e6},
            "Annual revenue of 2 million",
            "Chiffre d'affaires annuel de 2 millions",
        ),
        (
            "revenue",
            {"annual_revenue": 999_999.0},
            "Annual revenue of 999,999",
            f"Chiffre d'affaires annuel de 999{NNBSP}999",
        ),
        # speed to lead: before creation, 72 hours is still hours, then whole days
        (
            "speed_to_lead",
            {"hours_to_first_touch": -3.0},
            "First sales contact before the lead was created",
            "Premier contact commercial avant la création du lead",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": 72.0},
            "First sales contact after 72 hours",
            "Premier contact commercial après 72 heures",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": 100.0},
            "First sales contact after 4 days",
            "Premier contact commercial après 4 jours",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": 0.5},
            "First sales contact within the hour",
            "Premier contact commercial en moins d'une heure",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": 1.0},
            "First sales contact after 1 hour",
            "Premier contact commercial après 1 heure",
        ),
        (
            "speed_to_lead",
            {"hours_to_first_touch": NAN},
            "Not contacted by sales yet",
            "Pas encore contacté par un commercial",
        ),
        # account activity
        (
            "account_activity",
            {"account_other_leads": 0, "account_other_events_30d": 4},
            "No other contact at this company",
            "Aucun autre contact dans cette entreprise",
        ),
        (
            "account_activity",
            {"account_other_leads": 2, "account_other_events_30d": 0},
            "2 other contacts at this company, no action in the last 30 days",
            "2 autres contacts dans cette entreprise, aucune action ces 30 derniers jours",
        ),
        (
            "account_activity",
            {"account_other_leads": 1, "account_other_events_30d": 3},
            "1 other contact at this company, 3 actions in the last 30 days",
            "1 autre contact dans cette entreprise, 3 actions ces 30 derniers jours",
        ),
        (
            "account_activity",
            {"account_other_leads": 3, "account_other_events_30d": 1},
            "3 other contacts at this company, 1 action in the last 30 days",
            "3 autres contacts dans cette entreprise, 1 action ces 30 derniers jours",
        ),
        (
            "account_activity",
            {"account_other_leads": 1, "account_other_events_30d": NAN},
            "1 other contact at this company",
            "1 autre contact dans cette entreprise",
        ),
        (
            "account_activity",
            {"account_other_leads": NAN},
            "Account activity unknown",
            "Activité du compte inconnue",
        ),
        # authority: unknown seniority and department codes in plain words
        (
            "authority",
            {"seniority": "chief_wizard", "department": "r_and_d", "decision_maker": 1},
            "Chief wizard in r and d (decision maker)",
            "Chief wizard en r and d (décideur)",
        ),
        (
            "authority",
            {"seniority": NAN, "department": "r_and_d", "decision_maker": 0},
            "Works in r and d, seniority unknown",
            "Travaille en r and d, niveau inconnu",
        ),
        # email validity: an unknown status in plain words
        (
            "email_validity",
            {"email_status": "catch_all"},
            "Email status: catch all",
            "Statut de l'e-mail : catch all",
        ),
        # company signals: a type the vocabulary does not know, by count then by recency
        (
            "recent_funding",
            {"n_ipo_30d": 1},
            "Ipo: 1 in the last 30 days",
            "Ipo : 1 ces 30 derniers jours",
        ),
        (
            "recent_funding",
            {"n_ipo_30d": 1200},
            "Ipo: 1,200 in the last 30 days",
            f"Ipo : 1{NNBSP}200 ces 30 derniers jours",
        ),
        ("recent_funding", {"n_ipo_30d": 0}, "Ipo: none on record", "Ipo : aucun connu"),
        ("recent_funding", {"days_since_ipo": 3.0}, "Ipo 3 days ago", "Ipo il y a 3 jours"),
        # only what happened is told; a type that never happened is left out
        (
            "recent_funding",
            {"days_since_ipo": NAN, "days_since_funding_round": 10.0, "n_funding_round_90d": 1},
            "Funding round 10 days ago",
            "Levée de fonds il y a 10 jours",
        ),
        # the last one as old as the widest window: the silence since, in months from 60 days
        (
            "recent_funding",
            {"days_since_ipo": NAN, "days_since_funding_round": 90.0, "n_funding_round_90d": 0},
            "No funding round for 2 months",
            "Aucune levée de fonds depuis 2 mois",
        ),
        (
            "recent_funding",
            {"days_since_funding_round": 89.0, "n_funding_round_90d": 1},
            "Funding round 89 days ago",
            "Levée de fonds il y a 89 jours",
        ),
        # the widest window's count is added from 2
        (
            "recent_funding",
            {
                "days_since_funding_round": 10.0,
                "n_funding_round_30d": 1,
                "n_funding_round_90d": 1200,
            },
            "Funding round 10 days ago (1,200 in the last 90 days)",
            f"Levée de fonds il y a 10 jours (1{NNBSP}200 ces 90 derniers jours)",
        ),
        (
            "recent_funding",
            {"days_since_funding_round": 10.0, "n_funding_round_90d": 2},
            "Funding round 10 days ago (2 in the last 90 days)",
            "Levée de fonds il y a 10 jours (2 ces 90 derniers jours)",
        ),
        # an event type the vocabulary does not know: "{Label}: …" by count, then recency
        (
            "field_events",
            {"n_trade_show_7d": 2, "n_trade_show_30d": 3},
            "Trade show: 2 times in the last 7 days",
            "Trade show : 2 fois ces 7 derniers jours",
        ),
        (
            "field_events",
            {"n_trade_show_1000d": 1},
            "Trade show: 1 time in the last 1,000 days",
            f"Trade show : 1 fois ces 1{NNBSP}000 derniers jours",
        ),
        (
            "field_events",
            {"days_since_trade_show": 5.0},
            "Trade show: last one 5 days ago",
            "Trade show : dernier il y a 5 jours",
        ),
        (
            "field_events",
            {"days_since_trade_show": NAN, "n_trade_show_30d": 0},
            "Trade show: never",
            "Trade show : jamais",
        ),
        (
            "field_events",
            {"days_since_trade_show": NAN, "days_since_meetup": NAN, "n_meetup_7d": 2},
            "Meetup: 2 times in the last 7 days",
            "Meetup : 2 fois ces 7 derniers jours",
        ),
        (
            "field_events",
            {"days_since_trade_show": NAN, "days_since_meetup": 2.0},
            "Meetup: last one 2 days ago",
            "Meetup : dernier il y a 2 jours",
        ),
        # a known event 45 days ago is still news (the silence starts at 90 days; 30 for demos)
        (
            "pricing_interest",
            {"days_since_pricing_view": 45.0, "n_pricing_view_30d": 0},
            "Visited the pricing page 45 days ago",
            "A consulté la page tarifs il y a 45 jours",
        ),
        (
            "pricing_interest",
            {"days_since_pricing_view": 90.0, "n_pricing_view_30d": 0},
            "No pricing page visit for 2 months",
            "Aucune visite de la page tarifs depuis 2 mois",
        ),
        # of two types, the one that never happened is left out, the quiet one is told
        (
            "email_engagement",
            {"days_since_email_open": NAN, "days_since_email_click": 100.0},
            "No email click for 3 months",
            "Aucun clic dans nos e-mails depuis 3 mois",
        ),
        (
            "recent_funding",
            {"days_since_ipo": NAN, "days_since_funding_round": NAN, "n_funding_round_30d": 2},
            "Funding round: 2 in the last 30 days",
            "Levée de fonds : 2 ces 30 derniers jours",
        ),
        # counts without a window or a type: the group's label and the first value
        ("custom_counts", {"n_things": 3.5}, "Custom counts: 3.5", "Custom counts: 3,5"),
        # no value at all: the group's known type, never happened
        ("recent_funding", {}, "No funding round on record", "Aucune levée de fonds connue"),
    ],
)
def test_sentence_edges_in_both_languages(group, values, en, fr) -> None:
    assert reason_text(group, values, "en") == en
    assert reason_text(group, values, "fr") == fr


def test_a_quiet_spell_is_told_in_days_then_months() -> None:
    # whole days under 60 (never negative), then whole months of 30.44 days
    assert [_span(d, "en") for d in (-2.0, 0.5, 1.0, 59.9, 60.0, 92.0)] == [
        "0 days",
        "0 days",
        "1 day",
        "59 days",
        "1 month",
        "3 months",
    ]
    assert [_span(d, "fr") for d in (0.5, 1.0, 59.9, 60.0, 92.0)] == [
        "0 jour",
        "1 jour",
        "59 jours",
        "1 mois",
        "3 mois",
    ]


def test_first_touch_rounding_keeps_the_index_and_reads_text_as_missing() -> None:
    hours = pd.Series([0.4, "n/a", 5.6, 100.0, -1.0, None], index=[10, 11, 12, 13, 14, 15])
    out = canonical_reason_values(pd.DataFrame({"hours_to_first_touch": hours}))
    column = out["hours_to_first_touch"]
    assert out.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert column.dtype == np.float64
    # under an hour -> 0.5; up to 72 h whole hours; beyond, whole days (+0.5 h); before -> -1
    assert column.tolist()[:1] + column.tolist()[2:5] == [0.5, 6.0, 96.5, -1.0]
    assert np.isnan(column.iloc[1]) and np.isnan(column.iloc[5])

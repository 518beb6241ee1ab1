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

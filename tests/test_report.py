"""Lead cards, pure part: the page's data, its escaping, sorting, filters, French and the waterfall."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from leadml.report import build_report, report_payload, scored_queue, waterfall
from leadml.report.build import embed_json, latest_activities, render_html
from leadml.report.i18n import event_label, labels

AS_OF = pd.Timestamp("2026-01-01")
SCRIPT_NAME = "<script>alert(1)</script>"
MANIFEST = {
    "as_of": "2026-01-01 00:00:00",
    "counts": {"in": 4, "scored": 4, "rejected": 0},
    "tiers": {"hot": 1, "warm": 2, "cold": 1},
}


def reason(group: str, family: str, text: str, points: float, text_fr: str | None = None) -> dict:
    return {"group": group, "family": family, "text": text, "text_fr": text_fr, "points": points}


def make_scores() -> pd.DataFrame:
    reasons = {
        "L1": [
            reason(
                "demo_request",
                "behaviour",
                "Requested a demo 2 days ago",
                31.24,
                "A demandé une démo il y a 2 jours",
            ),
            reason("email_status", "persona", "Email address is invalid", -4.36),
        ],
        "L2": [
            reason(
                "company_size",
                "fit",
                "Company size in the target range",
                12.0,
                "Taille dans la cible",
            )
        ],
        "L3": [reason("weird", "fit", "</script><b>bold</b> & co", 3.0)],
        "L4": [],
    }
    frame = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "as_of": AS_OF,
            "probability": [0.42, 0.12, 0.12, 0.03],
            "points": [80.0, 61.05, 66.0, 20.0],
            "tier": ["hot", "warm", "warm", "cold"],
            "mql": [True, True, True, False],
            "base_points": 50.0,
            "score_fit": [1.0, 12.0, 3.0, -10.0],
            "score_persona": [-4.36, 0.0, 0.0, -10.0],
            "score_behaviour": [33.36, -0.95, 13.0, -10.0],
            "score_intent": [0.0, 0.0, 0.0, 0.0],
            "reasons": [
                json.dumps(reasons[k], ensure_ascii=False) for k in ("L1", "L2", "L3", "L4")
            ],
            "other_points": [3.12, -0.95, 13.0, -30.0],
            "model_name": "leadml-sql",
            "model_version": "3",
            "scored_at": pd.Timestamp("2026-01-01 02:30"),
        }
    )
    return frame


def make_leads() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "account_id": [10, 20, 10, 30],
            "created_at": AS_OF - pd.Timedelta(days=30),
            "source": ["demo_form", "referral", "webinar", "purchased_list"],
            "first_name": ["Ada", SCRIPT_NAME, "Zoé", None],
            "last_name": ["Lovelace", None, "Dupré", None],
            "job_title": ["CTO", "VP Sales", "Engineer", None],
            "seniority": ["c_level", "vp", "individual_contributor", "student"],
            "department": ["it", "sales", "engineering", "other"],
            "email_status": ["valid", "valid", "risky", "invalid"],
            "owner": ["Alice", "Bob", "alice ", None],
        }
    )


def make_accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [10, 20, 30],
            "name": ["Acme", "Bé & Co", "Initech"],
            "industry": ["software", "retail", "manufacturing"],
            "employees": [1200.0, float("nan"), 40.0],
            "country": ["FR", "DE", None],
        }
    )


def make_events() -> pd.DataFrame:
    rows = [
        ("L1", "2025-12-30 10:00", "demo_request"),
        ("L1", "2025-12-20 09:00", "pricing_view"),
        ("L1", "2025-12-31 23:59", "email_open"),
        ("L1", "2026-01-01 00:00", "meeting"),  # at as_of: not "before as_of"
        ("L1", "2026-01-05 08:00", "meeting"),  # after as_of
        ("L1", "2025-11-01 08:00", "mystery_signal"),
        ("L2", "2025-12-15 12:00", "webinar_attended"),
        ("L9", "2025-12-15 12:00", "pricing_view"),  # a lead not in the scores
    ]
    return pd.DataFrame(rows, columns=["lead_id", "ts", "event_type"]).assign(
        ts=lambda f: pd.to_datetime(f["ts"])
    )


def payload(**kwargs) -> dict:
    return report_payload(
        make_scores(), make_leads(), make_accounts(), make_events(), manifest=MANIFEST, **kwargs
    )


def page(**kwargs) -> str:
    return build_report(
        make_scores(), make_leads(), make_accounts(), make_events(), manifest=MANIFEST, **kwargs
    )


def embedded(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="leadml-data">(.*?)</script>', html, re.DOTALL
    )
    assert match is not None
    return json.loads(match.group(1))


# --- escaping ----------------------------------------------------------------


def test_embed_json_escapes_what_could_close_the_script_block():
    value = {"a": "</script><!-- & \u2028 >", "b": [1.5, None, True]}
    text = embed_json(value)
    assert not set("<>&") & set(text)
    assert "\u2028" not in text
    assert json.loads(text) == value


def test_script_tag_in_data_never_reaches_the_html_raw():
    html = page()
    assert SCRIPT_NAME not in html
    assert "<b>bold</b>" not in html
    # The only closing script tags are the page's own two.
    assert html.lower().count("</script") == 2
    data = embedded(html)
    names = {lead["id"]: lead.get("name") for lead in data["leads"]}
    assert names["L2"] == SCRIPT_NAME
    assert "</script><b>bold</b> & co" in data["texts"]


def test_owner_name_in_the_subtitle_and_title_is_html_escaped():
    """A rep's name is data: written into the header it is escaped, worked out by hand here."""
    owner = 'Zoë <script>alert(1)</script> & O\'Brien "Jr"'
    leads = make_leads().assign(owner=[owner, "Bob", owner, None])
    html = build_report(
        make_scores(), leads, make_accounts(), make_events(), manifest=MANIFEST, owner=owner
    )
    escaped = "Zoë &lt;script&gt;alert(1)&lt;/script&gt; &amp; O&#x27;Brien &quot;Jr&quot;"
    assert (
        '<p class="subtitle">Scored leads, most likely to become an SQL first · As of 2026-01-01'
        f" · Owner: {escaped}</p>"
    ) in html
    assert f"<title>Lead queue · As of 2026-01-01 · Owner: {escaped}</title>" in html
    assert "alert(1)</script>" not in html  # the raw name appears nowhere, not even in the data
    assert embedded(html)["meta"]["owner"] == owner
    # French: the non-breaking space before the colon, the same escaping
    fr = build_report(
        make_scores(), leads, make_accounts(), make_events(), manifest=MANIFEST, owner=owner,
        lang="fr",
    )  # fmt: skip
    assert f"<p class=\"subtitle\">Leads scorés, les plus susceptibles de devenir SQL en premier · Au 2026-01-01 · Commercial\u00a0: {escaped}</p>" in fr  # fmt: skip


def test_a_page_without_owner_or_date_shows_the_plain_subtitle():
    data = report_payload(
        make_scores().drop(columns="as_of"), make_leads(), make_accounts(), make_events(),
        manifest={},
    )  # fmt: skip
    data["meta"]["as_of"] = None
    html = render_html(data)
    assert '<p class="subtitle">Scored leads, most likely to become an SQL first</p>' in html
    assert "<title>Lead queue</title>" in html


def test_javascript_never_writes_html_from_data():
    js = resources.files("leadml.report").joinpath("report.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js


def test_page_references_nothing_on_the_network():
    html = page()
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.IGNORECASE)
    assert '<link rel="icon" href="data:,">' in html
    assert not re.search(r"<(img|iframe|link)[^>]+(src|href)=\"(?!data:)", html)


def test_content_security_policy_allows_only_the_inlined_script_and_style():
    html = page()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert csp.startswith("default-src 'none'")
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    script = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)[-1]
    for source in (style, script):
        digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_the_whole_csp_is_pinned():
    html = page()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    css = resources.files("leadml.report").joinpath("report.css").read_text(encoding="utf-8")
    js = resources.files("leadml.report").joinpath("report.js").read_text(encoding="utf-8")

    def sha(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")

    assert csp == (
        f"default-src 'none'; img-src data:; style-src 'sha256-{sha(css)}'; "
        f"script-src 'sha256-{sha(js)}'"
    )
    assert f"<style>{css}</style>" in html and f"<script>{js}</script>" in html


def test_embed_json_is_compact_keeps_accents_and_escapes_each_character_exactly():
    assert embed_json({"a": [1, 2.5], "b": "é"}) == '{"a":[1,2.5],"b":"é"}'
    assert embed_json("<>&\u2028\u2029") == '"\\u003c\\u003e\\u0026\\u2028\\u2029"'
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        embed_json({"p": float("nan")})


def test_text_slots_are_escaped_and_data_cannot_inject_a_placeholder():
    data = payload()
    data["meta"]["help"] = ["p < 0.3 & hot", "{{css}}"]
    data["meta"]["lang"] = 'en" onload="x'
    data["labels"] = {**data["labels"], "title": "Leads <b>&</b>", "subtitle": "{{js}}"}
    html = render_html(data)
    assert "<p>p &lt; 0.3 &amp; hot</p><p>{{css}}</p>" in html
    assert '<html lang="en&quot; onload=&quot;x">' in html
    assert "<h1>Leads &lt;b&gt;&amp;&lt;/b&gt;</h1>" in html
    assert '<p class="subtitle">{{js}} · As of 2026-01-01</p>' in html
    # left as they were, in the page and in its embedded data; the assets are inlined once
    assert html.count("{{css}}") == 2 and html.count("{{js}}") == 2
    css = resources.files("leadml.report").joinpath("report.css").read_text(encoding="utf-8")
    assert html.count(css) == 1


def test_an_incomplete_run_is_named_in_the_subtitle_and_title_escaped():
    data = payload()
    data["meta"]["incomplete"] = ["2 chunks <lost>", "no manifest"]
    html = render_html(data)
    warning = "WARNING: incomplete scoring run (2 chunks &lt;lost&gt;; no manifest)"
    assert (
        '<p class="subtitle">Scored leads, most likely to become an SQL first · As of 2026-01-01'
        f" · {warning}</p>"
    ) in html
    assert f"<title>Lead queue · As of 2026-01-01 · {warning}</title>" in html


def test_a_closing_tag_in_the_page_assets_is_refused(monkeypatch):
    import leadml.report.build as build

    real = build._asset
    for name, text, tag in (
        ("report.css", "a{}</STYLE><script>", "style"),
        ("report.js", "x=1;</script >", "script"),
        ("report.js", "x=1;</SCRIPT>", "script"),
    ):
        monkeypatch.setattr(
            build,
            "_asset",
            lambda asset, name=name, text=text: text if asset == name else real(asset),
        )
        with pytest.raises(
            ValueError,
            match=r"^report\.css / report\.js must not contain a closing </style> or </script> tag$",
        ):
            render_html(payload())
        del tag


def test_an_unknown_placeholder_in_the_template_is_named(monkeypatch):
    import leadml.report.build as build

    real = build._asset
    monkeypatch.setattr(
        build,
        "_asset",
        lambda name: real(name) + "{{ nope }}{{zz}}" if name == "template.html" else real(name),
    )
    with pytest.raises(
        ValueError, match=r"^template\.html: unknown placeholders \['nope', 'zz'\]$"
    ):
        render_html(payload())


# --- what is embedded -----------------------------------------------------------


def test_embedded_json_round_trips_to_the_payload():
    expected = json.loads(json.dumps(payload(), ensure_ascii=False))
    assert embedded(page()) == expected


def test_only_the_columns_the_cards_show_are_embedded():
    leads = make_leads().assign(email=["ada@example.com"] * 4, phone=["+33 6 00 00 00 00"] * 4)
    html = build_report(make_scores(), leads, make_accounts(), make_events(), manifest=MANIFEST)
    assert "example.com" not in html and "+33 6" not in html
    lead = next(lead for lead in embedded(html)["leads"] if lead["id"] == "L1")
    assert set(lead) <= {
        "id",
        "name",
        "title",
        "company",
        "industry",
        "seniority",
        "dormant",
        "employees",
        "country",
        "source",
        "owner",
        "tier",
        "mql",
        "p",
        "pw",
        "pts",
        "sub",
        "base",
        "reasons",
        "other",
        "acts",
        "run",
    }
    assert lead["name"] == "Ada Lovelace"
    assert lead["company"] == "Acme"
    assert lead["employees"] == 1200


def test_missing_values_are_left_out_not_nan():
    data = payload()
    l2 = next(lead for lead in data["leads"] if lead["id"] == "L2")
    assert "employees" not in l2  # NaN in accounts
    l4 = next(lead for lead in data["leads"] if lead["id"] == "L4")
    assert "name" not in l4 and "owner" not in l4 and "country" not in l4
    assert data["runs"] == [
        {
            "model_name": "leadml-sql",
            "model_version": "3",
            "scored_at": "2026-01-01",
            "as_of": "2026-01-01",
        }
    ]


# --- the queue -------------------------------------------------------------------


def test_queue_is_most_probable_first_ties_to_higher_points():
    ids = [lead["id"] for lead in payload()["leads"]]
    # L2 and L3 tie at 0.12: L3 has more points.
    assert ids == ["L1", "L3", "L2", "L4"]


def test_lead_ids_match_between_int_and_text_tables():
    scores = make_scores().assign(lead_id=[101, 102, 103, 104])
    leads = make_leads().assign(lead_id=["101", "102", "103", "104"])
    events = make_events().assign(
        lead_id=lambda f: f["lead_id"].map({"L1": "101", "L2": "102"}).fillna("999")
    )
    queue = scored_queue(scores, leads, make_accounts())
    assert queue.loc[queue["_id"] == "101", "first_name"].item() == "Ada"
    data = report_payload(scores, leads, make_accounts(), events, manifest=MANIFEST)
    assert data["leads"][0]["id"] == "101"
    assert data["leads"][0]["acts"][0] == ["2025-12-31", "email_open"]


def test_owner_keeps_only_that_reps_leads_ignoring_case_and_spaces():
    data = payload(owner="ALICE")
    assert [lead["id"] for lead in data["leads"]] == ["L1", "L3"]
    assert data["meta"]["owner"] == "Alice"  # as the leads table spells it
    assert data["meta"]["queue"] == 2 and data["meta"]["scored"] == 4


def test_unknown_owner_names_the_known_owners():
    with pytest.raises(
        ValueError, match=r"owner='Carol', who owns no scored lead.*\['Alice', 'Bob', 'alice'\]"
    ):
        payload(owner="Carol")


def test_top_cuts_the_owners_queue_after_sorting():
    assert [lead["id"] for lead in payload(owner="alice", top=1)["leads"]] == ["L1"]
    assert [lead["id"] for lead in payload(top=3)["leads"]] == ["L1", "L3", "L2"]


def test_top_must_be_positive():
    with pytest.raises(ValueError, match=r"top=0"):
        payload(top=0)


def test_missing_score_columns_are_named():
    with pytest.raises(ValueError, match=r"scores: missing columns \['base_points', 'reasons'\]"):
        scored_queue(
            make_scores().drop(columns=["reasons", "base_points"]), make_leads(), make_accounts()
        )


def test_duplicated_lead_ids_in_scores_are_refused():
    scores = pd.concat([make_scores(), make_scores().head(1)], ignore_index=True)
    with pytest.raises(
        ValueError, match=r"scores: column 'lead_id' has 1 duplicated values, e.g. \['L1'\]"
    ):
        scored_queue(scores, make_leads(), make_accounts())


def test_bad_reasons_json_names_the_lead():
    scores = make_scores().assign(reasons=["[]", "{not json", "[]", "[]"])
    with pytest.raises(ValueError, match=r"reasons' of lead 'L2' is not JSON"):
        report_payload(scores, make_leads(), make_accounts(), make_events(), manifest=MANIFEST)


def test_the_won_deal_model_is_shown_when_scored():
    scores = make_scores().assign(probability_won=[0.2, 0.05, None, 0.01], model_won_version="2")
    data = report_payload(scores, make_leads(), make_accounts(), make_events(), manifest=MANIFEST)
    assert [lead.get("pw") for lead in data["leads"]] == [0.2, None, 0.05, 0.01]
    assert data["runs"][0]["model_won_version"] == "2"


def test_time_zones_in_scores_manifest_and_events_are_compared_in_utc():
    scores = make_scores().assign(as_of=pd.Timestamp("2026-01-01 01:00", tz="Europe/Paris"))
    events = make_events().assign(ts=lambda f: f["ts"].dt.tz_localize("UTC"))
    manifest = {**MANIFEST, "as_of": "2026-01-01T01:00:00+01:00"}
    data = report_payload(scores, make_leads(), make_accounts(), events, manifest=manifest)
    assert data["meta"]["as_of"] == "2026-01-01"
    assert data["leads"][0]["acts"][0] == ["2025-12-31", "email_open"]


def test_empty_queue_renders():
    scores = make_scores().head(0)
    html = build_report(scores, make_leads(), make_accounts(), make_events(), manifest={})
    assert embedded(html)["leads"] == []


# --- activities -------------------------------------------------------------------


def test_latest_activities_are_newest_first_strictly_before_as_of():
    as_of = pd.Series([AS_OF, AS_OF], index=["L1", "L2"])
    acts = latest_activities(make_events(), as_of, n=3)
    assert acts["L1"] == [
        ("2025-12-31", "email_open"),
        ("2025-12-30", "demo_request"),
        ("2025-12-20", "pricing_view"),
    ]
    assert acts["L2"] == [("2025-12-15", "webinar_attended")]
    assert "L9" not in acts


def test_no_activities_when_asked_for_none():
    data = payload(latest_activities_n=0)
    assert all("acts" not in lead or lead["acts"] == [] for lead in data["leads"])


def test_unknown_event_types_get_readable_labels():
    data = payload(latest_activities_n=10)
    assert data["events"]["mystery_signal"] == "Mystery signal"
    assert data["events"]["demo_request"] == "Requested a demo"


# --- the waterfall ---------------------------------------------------------------------


def test_waterfall_rounds_steps_so_they_add_up_to_the_rounded_score():
    steps = waterfall(50, [31.24, -4.36], 80.0)
    assert steps.base == 50.0 and steps.reasons == (31.2, -4.4) and steps.total == 80.0
    assert steps.other == pytest.approx(3.2)


@given(
    base=st.floats(-100, 100, allow_nan=False),
    reasons=st.lists(st.floats(-80, 80, allow_nan=False), max_size=8),
    points=st.floats(-300, 300, allow_nan=False),
)
def test_waterfall_steps_always_sum_exactly_in_tenths(base, reasons, points):
    steps = waterfall(base, reasons, points)
    tenths = [round(v * 10) for v in (steps.base, *steps.reasons, steps.other)]
    assert sum(tenths) == round(steps.total * 10) == round(points * 10)


def test_every_card_adds_up_from_base_to_points():
    data = payload()
    scores = make_scores().set_index("lead_id")
    for lead in data["leads"]:
        parts = [lead["base"], *(r[1] for r in lead["reasons"]), lead["other"]]
        assert sum(round(p * 10) for p in parts) == round(lead["pts"] * 10)
        assert lead["pts"] == pytest.approx(scores.loc[lead["id"], "points"], abs=0.05)
    l1 = data["leads"][0]
    assert [data["texts"][t] for t, _, _ in l1["reasons"]] == [
        "Requested a demo 2 days ago",
        "Email address is invalid",
    ]
    assert [(p, f) for _, p, f in l1["reasons"]] == [(31.2, "behaviour"), (-4.4, "persona")]
    assert l1["other"] == pytest.approx(3.2)


# --- French ------------------------------------------------------------------------------


def test_french_page_uses_french_labels_and_reason_texts_falling_back_to_english():
    html = page(lang="fr")
    data = embedded(html)
    assert '<html lang="fr">' in html
    assert "<h1>File de leads</h1>" in html
    assert "Comment lire ce score" in html
    assert data["labels"]["other"] == "Autres facteurs"
    texts = set(data["texts"])
    assert "A demandé une démo il y a 2 jours" in texts
    assert "Email address is invalid" in texts  # no text_fr: falls back to text
    assert "Requested a demo 2 days ago" not in texts
    assert (
        data["events"]["demo_request"] == event_label("demo_request", "fr") == "A demandé une démo"
    )
    assert data["sources"]["referral"] == "Recommandation"


def test_french_and_english_labels_have_the_same_keys():
    assert labels("fr").keys() == labels("en").keys()


def test_unknown_language_says_what_is_allowed():
    with pytest.raises(
        ValueError, match=r"You provided lang='de'. Possible values are: \['en', 'fr'\]"
    ):
        page(lang="de")


def test_help_names_the_window_and_tier_thresholds_when_the_manifest_has_them():
    manifest = {
        **MANIFEST,
        "models": {"main": {"horizon_days": 90, "tiers": {"hot": 0.3, "warm": 0.1}}},
    }
    html = build_report(
        make_scores(), make_leads(), make_accounts(), make_events(), manifest=manifest
    )
    assert "sales qualified lead within 90 days" in html
    assert "hot from 30% chance of SQL" in html


def test_help_names_the_capacity_and_the_dormant_rule_and_codes_read_as_words():
    manifest = {
        **MANIFEST,
        "tier_thresholds": {"hot": 0.3, "warm": 0.1, "hot_top_n": 120, "dormant_days": 60},
    }
    scores = make_scores().assign(dormant=[False, True, False, False])
    accounts = make_accounts().assign(industry="public_sector")
    for lang, capacity, dormant, industry in (
        (
            "en",
            "the 120 most likely leads that are not dormant",
            "No activity for 60 days",
            "Public sector",
        ),
        (
            "fr",
            "les 120 leads non dormants les plus probables",
            "Aucune activité depuis 60 jours",
            "Secteur public",
        ),
    ):
        data = report_payload(
            scores, make_leads(), accounts, make_events(), manifest=manifest, lang=lang
        )
        help_text = " ".join(data["meta"]["help"])
        assert capacity in help_text and dormant in help_text
        assert data["industries"] == {"public_sector": industry}
        assert [lead.get("dormant", False) for lead in data["leads"]].count(True) == 1


# --- contrast ------------------------------------------------------------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colour_pairs_meet_wcag_aa():
    css = resources.files("leadml.report").joinpath("report.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [
        ("text", "bg"),
        ("text", "surface"),
        ("muted", "bg"),
        ("muted", "surface"),
        ("text", "selected"),
        ("hot-fg", "hot-bg"),
        ("warm-fg", "warm-bg"),
        ("cold-fg", "cold-bg"),
        ("accent-fg", "accent"),
        ("pos", "surface"),
        ("neg", "surface"),
        ("accent", "surface"),
        ("muted", "selected"),
    ]
    low = {
        f"{fg} on {bg}": round(contrast(colours[fg], colours[bg]), 2)
        for fg, bg in pairs
        if contrast(colours[fg], colours[bg]) < 4.5
    }
    assert low == {}


# --- the command ---------------------------------------------------------------------------


def test_report_command_writes_the_page_atomically_and_prints_its_path(tmp_path: Path):
    from leadml.commands.report import register

    data_dir, scores_dir = tmp_path / "data", tmp_path / "scores"
    data_dir.mkdir()
    scores_dir.mkdir()
    make_accounts().to_parquet(data_dir / "accounts.parquet")
    make_leads().to_parquet(data_dir / "leads.parquet")
    # Only events the data contract accepts: the command reads the tables as `leadml score` does.
    make_events().query("event_type != 'mystery_signal' and lead_id != 'L9'").to_parquet(
        data_dir / "events.parquet"
    )
    pd.DataFrame(
        {"account_id": [10], "ts": [AS_OF], "signal_type": ["funding_round"], "strength": [1.0]}
    ).to_parquet(data_dir / "intent.parquet")
    pd.DataFrame({"lead_id": ["L1"], "stage": ["mql"], "ts": [AS_OF]}).to_parquet(
        data_dir / "outcomes.parquet"
    )
    make_scores().to_parquet(scores_dir / "scores.parquet")
    (scores_dir / "manifest.json").write_text(json.dumps(MANIFEST))
    config = Path(__file__).resolve().parents[1] / "training" / "dataset.yaml"
    out = tmp_path / "site" / "cards.html"

    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command keeps typer from flattening `report` into the app
    def noop() -> None: ...

    args = [
        "report",
        "--scores",
        str(scores_dir),
        "--data",
        str(data_dir),
        "--out",
        str(out),
        "--config",
        str(config),
        "--allow-incomplete",  # a folder made by hand: no _SUCCESS, no checksums
    ]
    result = CliRunner().invoke(app, [*args, "--owner", "alice", "--lang", "fr", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["cards.html"]
    data = embedded(out.read_text(encoding="utf-8"))
    assert [lead["id"] for lead in data["leads"]] == ["L1", "L3"]
    assert data["meta"]["lang"] == "fr"

    missing = CliRunner().invoke(
        app,
        [
            "report",
            "--scores",
            str(tmp_path / "nope"),
            "--data",
            str(data_dir),
            "--out",
            str(out),
            "--config",
            str(config),
        ],
    )
    assert missing.exit_code == 1
    assert "no scores.parquet or scores.csv" in missing.output

"""Lead cards in a real browser: Debian's headless Chromium driven by Playwright.

The page must load with no console error and no network request, filter,
open cards whose waterfall adds up, keep hostile names as text, work from the
keyboard and at phone width, and open a 10,000-lead queue.
Timings are measured by ``bench/bench_report.py``, not asserted here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

from leadml.report import build_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
AS_OF = pd.Timestamp("2026-01-01")
SCRIPT_NAME = "<script>alert(1)</script>"
HOT, WARM = 6, 9  # the first 6 leads are hot, the next 9 warm, the rest cold

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason="browser tests need Debian's Chromium at /usr/bin/chromium (make chromium, or apt-get install chromium)",
    ),
]


def queue_inputs(n: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Scores, leads, accounts and events for ``n`` leads (n >= 4), most probable first by construction.

    Lead 0 is Ada Lovelace with known reasons; lead 3 carries a script tag as its name.
    """
    i = np.arange(n)
    ids = [f"L{k:05d}" for k in i]
    probability = np.linspace(0.95, 0.01, n)
    tier = np.where(i < HOT, "hot", np.where(i < HOT + WARM, "warm", "cold"))
    reasons = [
        [
            {
                "group": "pricing_view",
                "family": "behaviour",
                "text": f"Viewed the pricing page {k % 5 + 1} times",
                "text_fr": f"A vu la page tarifs {k % 5 + 1} fois",
                "points": 10.0 - k % 7,
            },
            {
                "group": "email_status",
                "family": "persona",
                "text": "Email address is risky",
                "text_fr": "Adresse e-mail douteuse",
                "points": -2.0 - k % 3,
            },
        ]
        for k in i
    ]
    reasons[0] = [
        {
            "group": "demo_request",
            "family": "behaviour",
            "text": "Requested a demo 2 days ago",
            "text_fr": "A demandé une démo il y a 2 jours",
            "points": 31.24,
        },
        {
            "group": "company_size",
            "family": "fit",
            "text": "Company size in the target range (1,200 employees)",
            "text_fr": "Taille d'entreprise dans la cible (1 200 salariés)",
            "points": 12.5,
        },
        {
            "group": "email_status",
            "family": "persona",
            "text": "Email address is invalid",
            "text_fr": "Adresse e-mail invalide",
            "points": -4.36,
        },
    ]
    other = np.round(np.sin(i) * 3, 3)
    other[0] = 1.1
    points = 50.0 + np.array([sum(r["points"] for r in rs) for rs in reasons]) + other
    scores = pd.DataFrame(
        {
            "lead_id": ids,
            "as_of": AS_OF,
            "probability": probability,
            "points": points,
            "tier": tier,
            "mql": probability >= 0.1,
            "base_points": 50.0,
            "score_fit": (points - 50) * 0.3,
            "score_persona": -(i % 4).astype(float),
            "score_behaviour": (points - 50) * 0.7 + (i % 4),
            "score_intent": 0.0,
            "reasons": [json.dumps(r, ensure_ascii=False) for r in reasons],
            "other_points": other,
            "model_name": "leadml-sql",
            "model_version": "4",
            "scored_at": pd.Timestamp("2026-01-01 02:00"),
        }
    )
    first = np.array(["Grace", "Alan", "Zoé", "Émile", "Linus", "Hedy"])[i % 6]
    last = np.array(["Hopper", "Turing", "Dupré", "Borel", "Torvalds", "Lamarr"])[i % 5]
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "account_id": i % 3,
            "created_at": AS_OF - pd.Timedelta(days=20),
            "source": np.array(["demo_form", "referral", "webinar"])[i % 3],
            "first_name": first,
            "last_name": last,
            "job_title": np.array(["CTO", "Head of IT", "Engineer", "CFO"])[i % 4],
            "owner": np.array(["Alice", "Bob"])[i % 2],
        }
    )
    leads.loc[0, ["first_name", "last_name"]] = ["Ada", "Lovelace"]
    leads.loc[3, ["first_name", "last_name", "account_id"]] = [SCRIPT_NAME, None, 2]
    accounts = pd.DataFrame(
        {
            "account_id": [0, 1, 2],
            "name": ["Acme", "Globex", "Evil & <b>Co</b>"],
            "industry": ["software", "manufacturing", "retail"],
            "employees": [1200, 300, 15],
            "country": ["FR", "DE", "US"],
        }
    )
    events = pd.DataFrame(
        {
            "lead_id": ["L00000", "L00000", "L00000", "L00001"],
            "ts": pd.to_datetime(
                ["2025-12-30 10:00", "2025-12-28 09:00", "2026-01-03 09:00", "2025-12-01 08:00"]
            ),
            "event_type": ["demo_request", "pricing_view", "meeting", "blog_view"],
        }
    )
    return scores, leads, accounts, events


@dataclass
class Watched:
    """A page with everything it logged, requested or tried to show."""

    page: object
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "cards.html"
    path.write_text(
        build_report(*queue_inputs(30), manifest={"as_of": "2026-01-01"}), encoding="utf-8"
    )
    return path


def open_report(browser, path: Path, *, width: int = 1280, height: int = 900) -> Watched:
    page = browser.new_page(viewport={"width": width, "height": height})
    watched = Watched(page=page, url=path.as_uri())
    page.on(
        "console",
        lambda message: watched.errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("request", lambda request: watched.requests.append(request.url))

    def on_dialog(dialog) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(watched.url)
    page.wait_for_selector("html[data-ready=true]")
    return watched


@pytest.fixture()
def report(browser, report_file: Path) -> Iterator[Watched]:
    watched = open_report(browser, report_file)
    yield watched
    watched.page.close()


def assert_quiet(watched: Watched) -> None:
    assert watched.errors == []
    assert watched.dialogs == []
    assert [u for u in watched.requests if u.split("#")[0] != watched.url] == []


def waterfall_steps(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#card .step",
        "rows => rows.map(r => ({kind: r.dataset.kind, points: Number(r.dataset.points),"
        " label: r.querySelector('.label').firstChild.textContent, num: r.querySelector('.num').textContent}))",
    )


def test_page_opens_a_card_without_console_errors_or_network_requests(report: Watched):
    page = report.page
    assert page.locator(".row").count() == 30
    page.click(".row >> nth=0")
    page.wait_for_selector("#card .waterfall")
    page.click(".chip[data-tier=warm]")
    page.fill("#search", "acme")
    page.wait_for_timeout(200)
    assert_quiet(report)
    assert report.requests == [report.url]


def test_tier_filter_narrows_the_queue_to_that_tier(report: Watched):
    page = report.page
    page.click(".chip[data-tier=hot]")
    assert page.locator(".row").count() == HOT
    assert page.text_content("#count") == f"{HOT} of 30 leads"
    assert (
        page.eval_on_selector_all(".row .badge", "b => b.map(x => x.textContent)") == ["Hot"] * HOT
    )
    page.click(".chip[data-tier=warm]")
    assert page.locator(".row").count() == WARM
    page.click('.chip[data-tier=""]')
    assert page.locator(".row").count() == 30
    assert_quiet(report)


def test_search_and_source_filters(report: Watched):
    page = report.page
    rows = page.locator(".row")
    page.fill("#search", "globex")  # account 1: leads 1, 4, 7, ..., 28
    expect(rows).to_have_count(10)
    page.fill("#search", "L00017")
    expect(rows).to_have_count(1)
    assert rows.get_attribute("data-id") == "L00017"
    page.fill("#search", "dupre zoe")  # accents are ignored
    # Zoé (i % 6 == 2) Dupré (i % 5 == 2): only i = 2
    expect(rows.first).to_have_attribute("data-id", "L00002")
    expect(rows).to_have_count(1)
    assert rows.locator(".name").text_content() == "Zoé Dupré"
    page.fill("#search", "")
    page.select_option("#source", "referral")
    expect(rows).to_have_count(10)
    page.fill("#search", "nobody-at-all")
    page.wait_for_selector("#empty:not([hidden])")
    assert_quiet(report)


def test_card_shows_the_reasons_and_points_that_add_up_to_the_score(report: Watched):
    page = report.page
    page.click('.row[data-id="L00000"]')
    page.wait_for_selector("#card .waterfall")
    assert page.text_content("#card-name") == "Ada Lovelace"
    steps = waterfall_steps(page)
    assert [s["kind"] for s in steps] == ["base", "reason", "reason", "reason", "other", "total"]
    assert [s["label"] for s in steps if s["kind"] == "reason"] == [
        "Requested a demo 2 days ago",
        "Company size in the target range (1,200 employees)",
        "Email address is invalid",
    ]
    assert [s["num"] for s in steps] == ["50.0", "+31.2", "+12.5", "\u22124.4", "+1.2", "= 90.5"]
    parts = sum(round(s["points"] * 10) for s in steps if s["kind"] != "total")
    assert parts == round(steps[-1]["points"] * 10) == 905
    figures = page.eval_on_selector_all("#card .keyfig .value", "v => v.map(x => x.textContent)")
    assert figures[:2] == ["95%", "90.5"]
    activities = page.eval_on_selector_all("#card .acts li span", "s => s.map(x => x.textContent)")
    # The meeting after as_of is left out.
    assert activities == ["Requested a demo", "Viewed the pricing page"]
    assert page.eval_on_selector_all("#card .bar-row", "r => r.length") == 4
    assert "leadml-sql version 4" in page.text_content("#card .model")
    assert "How to read this score" in page.text_content("#help")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"))
    assert_quiet(report)


def test_a_lead_named_script_renders_as_text_and_runs_nothing(report: Watched):
    page = report.page
    row = page.locator('.row[data-id="L00003"]')
    assert row.locator(".name").text_content() == SCRIPT_NAME
    row.click()
    page.wait_for_selector("#card .waterfall")
    assert page.text_content("#card-name") == SCRIPT_NAME
    assert "Evil & <b>Co</b>" in page.text_content("#card .card-head .sub")
    assert page.locator("#card b, #queue b, #queue script, #card script").count() == 0
    assert page.locator("script").count() == 2  # the data block and the page's own code
    assert report.dialogs == []
    assert_quiet(report)


def test_keyboard_moves_opens_and_closes_cards(report: Watched):
    page = report.page
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.pos") == "0"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.id") == "L00002"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_selector("#card:not([hidden])")
    assert page.get_attribute("#card", "data-id") == "L00001"
    assert page.evaluate("document.activeElement.id") == "card"
    page.keyboard.press("Escape")
    page.wait_for_selector("#card[hidden]", state="attached")
    assert page.evaluate("document.activeElement.dataset.id") == "L00001"
    # One tab stop for the whole queue: only the current row is in the tab order.
    assert page.eval_on_selector_all('.row[tabindex="0"]', "r => r.map(x => x.dataset.id)") == [
        "L00001"
    ]
    assert_quiet(report)


def test_a_link_to_a_lead_opens_its_card(browser, report_file: Path):
    page = browser.new_page()
    try:
        page.goto(report_file.as_uri() + "#lead=L00004")
        page.wait_for_selector("html[data-ready=true] #card .waterfall")
        assert page.get_attribute("#card", "data-id") == "L00004"
        page.keyboard.press("Escape")
        assert page.evaluate("location.hash") == ""
        page.click('.row[data-id="L00002"]')
        assert page.evaluate("location.hash") == "#lead=L00002"
    finally:
        page.close()


def test_phone_width_fits_and_the_card_covers_the_queue(browser, report_file: Path):
    watched = open_report(browser, report_file, width=375, height=740)
    page = watched.page
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click('.row[data-id="L00000"]')
        page.wait_for_selector("#card .waterfall")
        box = page.locator("#panel").bounding_box()
        assert box is not None and box["x"] == 0 and box["width"] == 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.evaluate(
            "document.getElementById('panel').scrollWidth <= document.getElementById('panel').clientWidth"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-phone.png"))
        page.click("#card .close")
        page.wait_for_selector("#card[hidden]", state="attached")
        assert_quiet(watched)
    finally:
        page.close()


def test_french_page(browser, tmp_path: Path):
    path = tmp_path / "fr.html"
    path.write_text(
        build_report(*queue_inputs(30), manifest={"as_of": "2026-01-01"}, lang="fr"),
        encoding="utf-8",
    )
    watched = open_report(browser, path)
    page = watched.page
    try:
        assert page.text_content("h1") == "File de leads"
        assert page.text_content(".chip[data-tier=hot]") == f"Chaud ({HOT})"
        assert page.text_content("#count") == "30 leads sur 30"
        page.click('.row[data-id="L00000"]')
        page.wait_for_selector("#card .waterfall")
        labels = [s["label"] for s in waterfall_steps(page)]
        assert labels[0] == "Lead moyen (entraînement)" and labels[-2] == "Autres facteurs"
        assert "A demandé une démo il y a 2 jours" in labels
        assert (
            page.eval_on_selector_all("#card .acts li span", "s => s.map(x => x.textContent)")[0]
            == "A demandé une démo"
        )
        assert_quiet(watched)
    finally:
        page.close()


def test_a_10000_lead_queue_opens_and_renders_its_first_rows(browser, tmp_path: Path):
    scores, leads, accounts, events = queue_inputs(10_000)
    path = tmp_path / "big.html"
    path.write_text(
        build_report(scores, leads, accounts, events, manifest={"as_of": "2026-01-01"}),
        encoding="utf-8",
    )
    watched = open_report(browser, path)
    page = watched.page
    try:
        assert page.text_content("#count") == "10,000 of 10,000 leads"
        first = page.locator(".row").count()
        assert 0 < first < 10_000  # rendered in batches
        assert page.get_attribute(".row >> nth=0", "data-id") == "L00000"
        page.locator("#sentinel").scroll_into_view_if_needed()
        expect(page.locator(".row").nth(first)).to_be_attached()
        page.click(".chip[data-tier=cold]")
        assert page.text_content("#count") == f"{10_000 - HOT - WARM:,} of 10,000 leads"
        page.keyboard.press("/")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("End")
        assert page.evaluate("document.activeElement.dataset.id") == "L09999"
        assert_quiet(watched)
    finally:
        page.close()


def test_owner_filter_dormant_toggle_and_top_reason_on_rows(browser, tmp_path: Path):
    scores, leads, accounts, events = queue_inputs(30)
    scores["dormant"] = np.arange(30) % 10 == 9  # leads 9, 19, 29
    path = tmp_path / "cards.html"
    manifest = {
        "as_of": "2026-01-01",
        "tier_thresholds": {"warm": 0.1, "hot_top_n": 6, "dormant_days": 60},
    }
    path.write_text(
        build_report(scores, leads, accounts, events, manifest=manifest), encoding="utf-8"
    )
    watched = open_report(browser, path)
    page = watched.page
    rows = page.locator(".row")
    expect(rows).to_have_count(27)  # dormant leads are hidden by default
    assert page.text_content("#dormant-field").strip() == "Show dormant leads (3)"
    page.check("#dormant")
    expect(rows).to_have_count(30)
    assert page.locator('.row[data-id="L00009"] .badge.dormant').text_content() == "Dormant"
    page.uncheck("#dormant")
    page.select_option("#owner", "Bob")  # odd leads, less the dormant 9, 19, 29
    expect(rows).to_have_count(12)
    assert set(
        page.eval_on_selector_all(".row", "r => r.map(x => Number(x.dataset.id.slice(1)) % 2)")
    ) == {1}
    page.select_option("#owner", "")
    # every row tells the reason that moved its score most
    assert page.text_content('.row[data-id="L00000"] .why') == "Requested a demo 2 days ago +31.2"
    assert (
        page.text_content('.row[data-id="L00001"] .why') == "Viewed the pricing page 2 times +9.0"
    )
    # industry as words, capacity in the help
    page.click('.row[data-id="L00000"]')
    page.wait_for_selector("#card .waterfall")
    assert "Software" in page.text_content("#card .facts")
    assert "the 6 most likely leads that are not dormant" in page.text_content("#help")
    assert_quiet(watched)
    watched.page.close()


@pytest.mark.slow
def test_fifty_random_cards_never_show_a_reason_against_its_declared_direction(
    browser, champion, demo_data, tracking_uri, tmp_path: Path
):
    """The demo champion's scores as of the data's end, on the page: open 50 cards at random
    among the leads the queue shows (dormant ones hidden) and check every reason's sign."""
    from leadml.config import RunConfig, load_dataset_config
    from leadml.data.schema import load_tables
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.scoring.open_leads import score_features
    from leadml.tracking import load_scorer

    config = RunConfig(
        dataset=load_dataset_config(Path(__file__).parents[1] / "training" / "dataset.yaml")
    )
    scorer, _ = load_scorer("models:/leadml-sql@champion", uri=tracking_uri)
    tables, _ = load_tables(demo_data, config.dataset, as_of=AS_OF)
    features = build_scoring_set(config, None, as_of=AS_OF, spec=scorer.spec, tables=tables).frame
    scores = score_features(features, scorer, as_of=AS_OF, model_meta={"name": "leadml-sql"})
    expected = scorer.catalogue.expected_signs(scorer.spec.with_internal_names(features))
    groups = list(scorer.catalogue.groups)
    row_of = {str(lead): k for k, lead in enumerate(features["lead_id"])}
    path = tmp_path / "cards.html"
    path.write_text(
        build_report(
            scores, tables.leads, tables.accounts, tables.events, manifest={"as_of": "2026-01-01"}
        ),
        encoding="utf-8",
    )
    watched = open_report(browser, path)
    page = watched.page
    shown = scores.loc[~scores["dormant"], "lead_id"].astype(str).to_numpy()
    assert len(shown) >= 50 and scores["dormant"].any()
    picked = np.random.default_rng(15).choice(shown, 50, replace=False)
    checked = 0
    for lead in picked:
        page.fill("#search", lead)
        page.click(f'.row[data-id="{lead}"]')
        page.wait_for_selector(f'#card[data-id="{lead}"] .waterfall')
        steps = [s for s in waterfall_steps(page) if s["kind"] == "reason"]
        reasons = json.loads(scores.loc[scores["lead_id"].astype(str) == lead, "reasons"].iloc[0])
        assert [s["label"] for s in steps] == [r["text"] for r in reasons]
        for step, reason in zip(steps, reasons, strict=True):
            sign = expected[row_of[lead], groups.index(reason["group"])]
            assert sign * step["points"] >= 0, (lead, step, sign)
            assert abs(reason["points"]) >= 1.0, (lead, reason)
            checked += 1
    assert checked >= 100
    assert_quiet(watched)
    watched.page.close()

"""Benchmark: build a 10,000-lead report and time how fast Chromium makes it usable.

Prints the build time, the page size and, over a few loads in Debian's
headless Chromium, the time from navigation to the queue being rendered and
interactive (the page sets ``<html data-ready>`` once the first rows are in),
then the time a tier filter and opening a card take.

    .venv/bin/python bench/bench_report.py [--leads 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

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
REASONS = [
    (
        "demo_request",
        "behaviour",
        "Requested a demo {d} days ago",
        "A demandé une démo il y a {d} jours",
    ),
    (
        "pricing_view",
        "behaviour",
        "Viewed the pricing page {d} times this month",
        "A vu la page tarifs {d} fois ce mois-ci",
    ),
    (
        "company_size",
        "fit",
        "Company size in the target range ({d}00 employees)",
        "Taille d'entreprise dans la cible ({d}00 salariés)",
    ),
    ("seniority", "persona", "Decision maker (director)", "Décideur (directeur)"),
    (
        "funding_round",
        "intent",
        "Company raised funds {d} weeks ago",
        "L'entreprise a levé des fonds il y a {d} semaines",
    ),
    ("email_status", "persona", "Email address is invalid", "Adresse e-mail invalide"),
    ("inactivity", "behaviour", "No activity for {d} weeks", "Aucune activité depuis {d} semaines"),
]
EVENT_TYPES = [
    "pricing_view",
    "demo_request",
    "email_open",
    "whitepaper_download",
    "webinar_attended",
    "blog_view",
    "meeting",
]


def synthetic_inputs(n: int, *, seed: int = 0) -> tuple[pd.DataFrame, ...]:
    """Scores, leads, accounts and events shaped like `leadml score` output, for ``n`` leads."""
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2026-01-01")
    ids = [f"L{i:06d}" for i in range(n)]
    base = 50.0
    reason_rows, other = [], []
    points = np.empty(n)
    for i in range(n):
        picks = rng.choice(len(REASONS), size=rng.integers(2, 7), replace=False)
        reasons = []
        for k in picks:
            group, family, en, fr = REASONS[k]
            d = int(rng.integers(1, 9))
            sign = -1 if group in ("email_status", "inactivity") else 1
            reasons.append(
                {
                    "group": group,
                    "family": family,
                    "text": en.format(d=d),
                    "text_fr": fr.format(d=d),
                    "points": round(sign * float(rng.gamma(2.0, 6.0)), 3),
                }
            )
        rest = float(rng.normal(0, 4))
        points[i] = base + sum(r["points"] for r in reasons) + rest
        reason_rows.append(json.dumps(reasons, ensure_ascii=False))
        other.append(rest)
    probability = 1 / (1 + np.exp(-(points - 50) * np.log(2) / 20 + 2.2))
    tier = np.where(probability >= 0.3, "hot", np.where(probability >= 0.1, "warm", "cold"))
    split = rng.dirichlet(np.ones(4), size=n) * (points - base)[:, None]
    scores = pd.DataFrame(
        {
            "lead_id": ids,
            "as_of": as_of,
            "probability": probability,
            "points": points,
            "tier": tier,
            "mql": probability >= 0.1,
            "base_points": base,
            "score_fit": split[:, 0],
            "score_persona": split[:, 1],
            "score_behaviour": split[:, 2],
            "score_intent": split[:, 3],
            "reasons": reason_rows,
            "other_points": other,
            "model_name": "leadml-sql",
            "model_version": "7",
            "scored_at": pd.Timestamp("2026-01-01 02:00"),
        }
    )
    n_accounts = max(1, n // 4)
    accounts = pd.DataFrame(
        {
            "account_id": np.arange(n_accounts),
            "name": [f"Company {i}" for i in range(n_accounts)],
            "industry": rng.choice(["software", "manufacturing", "retail"], n_accounts),
            "employees": rng.integers(5, 20000, n_accounts),
            "country": rng.choice(["FR", "DE", "US", "GB"], n_accounts),
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "account_id": rng.integers(0, n_accounts, n),
            "created_at": as_of - pd.to_timedelta(rng.integers(1, 200, n), unit="D"),
            "source": rng.choice(
                ["demo_form", "referral", "webinar", "paid_search", "purchased_list"], n
            ),
            "first_name": rng.choice(["Ada", "Grace", "Alan", "Zoé", "Émile", "Linus"], n),
            "last_name": rng.choice(["Martin", "Bernard", "Dubois", "Smith", "Lovelace"], n),
            "job_title": rng.choice(["CTO", "Head of IT", "Engineer", "CFO", "Buyer"], n),
            "seniority": "manager",
            "department": "it",
            "email_status": "valid",
            "owner": rng.choice(["Alice", "Bob", "Chloé"], n),
        }
    )
    n_events = n * 12
    events = pd.DataFrame(
        {
            "lead_id": rng.choice(ids, n_events),
            "ts": as_of
            - pd.to_timedelta(rng.integers(-5 * 86400, 120 * 86400, n_events), unit="s"),
            "event_type": rng.choice(EVENT_TYPES, n_events),
        }
    )
    return scores, leads, accounts, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not CHROMIUM.is_file():
        sys.exit(f"{CHROMIUM} is missing: run `make chromium` first")
    from playwright.sync_api import sync_playwright

    scores, leads, accounts, events = synthetic_inputs(args.leads)
    started = time.perf_counter()
    page_html = build_report(scores, leads, accounts, events, manifest={"as_of": "2026-01-01"})
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.html"
        path.write_text(page_html, encoding="utf-8")
        print(f"leads: {args.leads:,}; events: {len(events):,}")
        print(f"build_report: {build_s:.2f} s; page: {path.stat().st_size / 1e6:.2f} MB")
        loads, filters, cards = [], [], []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(args.repeat):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                started = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_selector("html[data-ready=true] .row")
                loads.append(time.perf_counter() - started)
                started = time.perf_counter()
                page.click('.chip[data-tier="hot"]')
                page.wait_for_function("document.querySelector('#count').textContent.length > 0")
                filters.append(time.perf_counter() - started)
                started = time.perf_counter()
                page.click(".row >> nth=0")
                page.wait_for_selector("#card .waterfall")
                cards.append(time.perf_counter() - started)
                ready_ms = page.evaluate("window.leadmlReadyAt")
                page.close()
            browser.close()
    print(
        f"load to interactive (navigation → first rows, wall clock): median {statistics.median(loads):.3f} s, max {max(loads):.3f} s over {args.repeat}"
    )
    print(f"  in-page (performance.now at ready, last load): {ready_ms / 1000:.3f} s")
    print(
        f"tier filter: median {statistics.median(filters) * 1000:.0f} ms; open a card: median {statistics.median(cards) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()

"""``leadml explain``: one lead's card in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from leadml.commands import options
from leadml.commands._common import fail, load_config, parse_as_of
from leadml.data.sources import data_location
from leadml.vocabulary import FAMILIES

__all__ = ["register"]


def _lead_tables(tables, lead_id):
    """Only what one lead's features read: its account, the account's leads, their rows."""
    leads = tables.leads
    match = leads[leads["lead_id"].astype(str) == str(lead_id)]
    if match.empty:
        return None, None
    account = match["account_id"].iloc[0]
    account_leads = leads[leads["account_id"] == account]
    ids = account_leads["lead_id"]
    return match["lead_id"].iloc[0], tables.replace(
        accounts=tables.accounts[tables.accounts["account_id"] == account],
        leads=account_leads,
        events=tables.events[tables.events["lead_id"].isin(ids)],
        intent=tables.intent[tables.intent["account_id"] == account],
        outcomes=tables.outcomes[tables.outcomes["lead_id"].isin(ids)],
    )


def explain(
    lead_id: Annotated[str, typer.Option("--lead-id", help="The lead to explain.")],
    data: Annotated[
        Any,
        typer.Option(
            "--data", parser=data_location, help="Data folder or database URL (event mode)."
        ),
    ],
    as_of: Annotated[str, typer.Option("--as-of", help="Scoring date (default: now).")] = "now",
    model: Annotated[
        str, typer.Option("--model", help="Model URI.")
    ] = "models:/leadml-sql@champion",
    config: options.DatasetConfig = Path("training/dataset.yaml"),
    activities: Annotated[int, typer.Option("--activities", help="Latest activities to show.")] = 8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the card as JSON on stdout.")
    ] = False,
    tracking_uri: options.TrackingUri = None,
) -> None:
    """Probability, points, tier, sub-scores, reasons with points and latest activities of one lead."""
    from rich.console import Console
    from rich.table import Table

    from leadml.data.schema import load_tables
    from leadml.pointintime.trainingset import build_scoring_set
    from leadml.tracking import load_scorer

    run_config = load_config(config)
    when = parse_as_of(as_of)
    scorer, meta = load_scorer(model, uri=tracking_uri)
    tables, _ = load_tables(data, run_config.dataset, as_of=when, future_rows="ignore")
    key, sub = _lead_tables(tables, lead_id)
    if sub is None:
        raise fail(f"leads.lead_id: no lead {lead_id!r} in {data}")
    scoring = build_scoring_set(run_config, None, as_of=when, spec=scorer.spec, tables=sub)
    row = scoring.frame[scoring.frame["lead_id"] == key]
    if row.empty:
        raise fail(
            f"lead {lead_id!r} is not open as of {when:%Y-%m-%d} (already SQL, won, lost or disqualified, or not created yet)"
        )
    scored = scorer.score_frame(row).iloc[0]
    reasons = json.loads(scored["reasons"])
    events = sub.events[(sub.events["lead_id"] == key) & (sub.events["ts"] < when)]
    latest = events.sort_values("ts", ascending=False).head(activities)
    card = {
        "lead_id": str(lead_id),
        "as_of": str(when),
        "model": f"{meta.get('name')} v{meta.get('version')}",
        "probability": float(scored["probability"]),
        "points": float(scored["points"]),
        "tier": scored["tier"],
        "base_points": float(scored["base_points"]),
        "sub_scores": {f: float(scored[f"score_{f}"]) for f in FAMILIES},
        "reasons": reasons,
        "other_points": float(scored["other_points"]),
        "latest_activities": [
            {"ts": str(t), "event_type": e}
            for t, e in zip(latest["ts"], latest["event_type"], strict=True)
        ],
    }
    if as_json:
        print(json.dumps(card, indent=2))
        return
    console = Console()
    lead = sub.leads[sub.leads["lead_id"] == key].iloc[0]
    name = " ".join(
        str(lead.get(c, "")) for c in ("first_name", "last_name") if pd.notna(lead.get(c))
    )
    console.print(
        f"[bold]{name or 'lead'} ({lead_id})[/bold] — as of {when:%Y-%m-%d}, {card['model']}"
    )
    console.print(
        f"probability [bold]{card['probability']:.1%}[/bold] · points [bold]{card['points']:.0f}[/bold] · tier [bold]{card['tier']}[/bold]"
    )
    console.print(
        "sub-scores: " + " · ".join(f"{k} {v:+.1f}" for k, v in card["sub_scores"].items())
    )
    table = Table(
        "reason",
        "points",
        title=f"from base {card['base_points']:.0f} to {card['points']:.0f} points",
    )
    for reason in reasons:
        table.add_row(reason["text"], f"{reason['points']:+.1f}")
    table.add_row("other factors", f"{card['other_points']:+.1f}")
    console.print(table)
    if card["latest_activities"]:
        console.print(
            "latest activities: "
            + "; ".join(f"{a['ts'][:10]} {a['event_type']}" for a in card["latest_activities"])
        )


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)

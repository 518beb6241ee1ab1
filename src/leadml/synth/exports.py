"""The synthetic CRM written the way Salesforce and HubSpot export it.

A real CRM export never uses the contract's words: Salesforce has ``Lead``,
``Task`` / ``Event`` (activity history), ``LeadHistory`` (status changes) and
``Opportunity`` objects with picklists such as ``Closed Won`` and ``--None--``;
HubSpot exports contacts, companies, engagements and lifecycle-stage history
with headers such as ``Record ID`` and ``Create Date``. These writers turn the
contract tables into such files, so the worked example configs
(``training/examples/salesforce.yaml``, ``training/examples/hubspot.yaml``) can
be tried and tested: reading the export through its config must give back the
same tables (ids aside).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leadml.data.io import Tables

__all__ = [
    "HUBSPOT_WORDS",
    "SALESFORCE_WORDS",
    "write_hubspot_export",
    "write_salesforce_export",
]

# contract value -> the CRM's word, per vocabulary; the example configs hold the inverse maps
SALESFORCE_WORDS: dict[str, dict[str, str]] = {
    "source": {
        "demo_form": "Web - Demo Form",
        "referral": "Partner Referral",
        "organic_search": "Organic Search",
        "webinar": "Webinar",
        "content_download": "Content Download",
        "paid_search": "Paid Search",
        "paid_social": "Paid Social",
        "trade_show": "Trade Show",
        "purchased_list": "Purchased List",
        "outbound": "Outbound Prospecting",
    },
    "event_type": {
        "pricing_view": "Web Visit: Pricing",
        "demo_page_view": "Web Visit: Demo",
        "product_page_view": "Web Visit: Product",
        "blog_view": "Web Visit: Blog",
        "email_open": "Email Opened",
        "email_click": "Email Clicked",
        "whitepaper_download": "Content: Whitepaper Download",
        "webinar_registration": "Webinar: Registered",
        "webinar_attended": "Webinar: Attended",
        "form_submit": "Form Submitted",
        "demo_request": "Demo Requested",
        "sales_touch": "Call",
        "meeting": "Meeting",
        "unsubscribe": "Unsubscribed",
        "email_bounce": "Email Bounced",
    },
    "signal_type": {
        "funding_round": "Funding Round",
        "hiring_surge": "Hiring Surge",
        "new_executive": "New Executive",
        "technology_change": "Technology Change",
        "topic_surge": "Topic Surge",
    },
    "status": {
        "mql": "Marketing Qualified",
        "sql": "Sales Qualified",
        "disqualified": "Unqualified",
    },
    "seniority": {
        "c_level": "C-Level",
        "vp": "VP",
        "director": "Director",
        "manager": "Manager",
        "individual_contributor": "Individual Contributor",
        "student": "Student",
    },
    "email_status": {
        "valid": "Valid",
        "risky": "Risky",
        "invalid": "Invalid",
        "unknown": "Unknown",
    },
    "industry": {
        "software": "Software",
        "manufacturing": "Manufacturing",
        "professional_services": "Professional Services",
        "retail": "Retail",
        "healthcare": "Healthcare",
        "logistics": "Logistics",
        "financial_services": "Financial Services",
        "education": "Education",
        "public_sector": "Public Sector",
        "media": "Media",
    },
}
HUBSPOT_WORDS: dict[str, dict[str, str]] = {
    "source": {
        "demo_form": "DEMO_FORM",
        "referral": "REFERRALS",
        "organic_search": "ORGANIC_SEARCH",
        "webinar": "WEBINAR",
        "content_download": "CONTENT_DOWNLOAD",
        "paid_search": "PAID_SEARCH",
        "paid_social": "PAID_SOCIAL",
        "trade_show": "OFFLINE",
        "purchased_list": "IMPORT",
        "outbound": "SALES_PROSPECTING",
    },
    "event_type": {
        "pricing_view": "Page view: /pricing",
        "demo_page_view": "Page view: /demo",
        "product_page_view": "Page view: /product",
        "blog_view": "Page view: /blog",
        "email_open": "Marketing email opened",
        "email_click": "Marketing email clicked",
        "whitepaper_download": "Form submission: Whitepaper",
        "webinar_registration": "Webinar registration",
        "webinar_attended": "Webinar attendance",
        "form_submit": "Form submission: Contact us",
        "demo_request": "Form submission: Demo request",
        "sales_touch": "Call",
        "meeting": "Meeting",
        "unsubscribe": "Unsubscribed from all email",
        "email_bounce": "Email bounced",
    },
    "signal_type": {
        "funding_round": "Funding",
        "hiring_surge": "Hiring",
        "new_executive": "Leadership change",
        "technology_change": "Tech install",
        "topic_surge": "Research surge",
    },
    "stage": {
        "mql": "marketingqualifiedlead",
        "sql": "salesqualifiedlead",
        "opportunity": "opportunity",
        "won": "customer",
        "lost": "Closed lost",
        "disqualified": "Unqualified",
    },
    "seniority": {
        "c_level": "executive",
        "vp": "vice_president",
        "director": "director",
        "manager": "manager",
        "individual_contributor": "employee",
        "student": "student",
    },
}


def _words(values: pd.Series, words: dict[str, str]) -> pd.Series:
    return values.astype(object).map(lambda v: words.get(v, v) if isinstance(v, str) else v)


def _sf_id(prefix: str, ids: pd.Series) -> pd.Series:
    """Salesforce-looking ids of one width, so they sort like the numbers they stand for."""
    return prefix + ids.astype(np.int64).astype(str).str.zfill(13)


def _sf_time(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_salesforce_export(tables: Tables, folder: str | Path) -> Path:
    """``Account``, ``Lead``, ``Task``, ``Event``, ``LeadHistory``, ``Opportunity`` and
    ``IntentSignal`` CSV files, as a Salesforce data export (plus an intent provider) writes them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    words = SALESFORCE_WORDS
    accounts, leads, events, outcomes = (
        tables.accounts,
        tables.leads,
        tables.events,
        tables.outcomes,
    )
    pd.DataFrame(
        {
            "Id": _sf_id("001Dn", accounts["account_id"]),
            "Name": accounts["name"].astype(object),
            "Industry": _words(accounts["industry"], words["industry"]).fillna("--None--"),
            "NumberOfEmployees": accounts["employees"],
            "AnnualRevenue": accounts["annual_revenue"],
            "BillingCountry": accounts["country"].astype(object),
        }
    ).to_csv(folder / "Account.csv", index=False)
    lead_ids = _sf_id("00QDn", leads["lead_id"])
    pd.DataFrame(
        {
            "Id": lead_ids,
            "Account__c": _sf_id("001Dn", leads["account_id"]),  # a Lead-to-Account lookup field
            "CreatedDate": _sf_time(leads["created_at"]),
            "LeadSource": _words(leads["source"], words["source"]).fillna("--None--"),
            "FirstName": leads["first_name"].astype(object),
            "LastName": leads["last_name"].astype(object),
            "Title": leads["job_title"].astype(object),
            "Seniority__c": _words(leads["seniority"], words["seniority"]).fillna("--None--"),
            "Department__c": leads["department"].astype(object),
            "Email_Status__c": _words(leads["email_status"], words["email_status"]),
            "OwnerId": leads["owner"].astype(object),
            "HasOptedOutOfEmail": np.where(
                leads["lead_id"].isin(events.loc[events["event_type"] == "unsubscribe", "lead_id"]),
                "true",
                "false",
            ),
        }
    ).to_csv(folder / "Lead.csv", index=False)
    activity = pd.DataFrame(
        {
            "WhoId": _sf_id("00QDn", events["lead_id"]),
            "When": _sf_time(events["ts"]),
            "Subject": _words(events["event_type"], words["event_type"]),
        }
    )
    meetings = (events["event_type"] == "meeting").to_numpy()
    tasks = activity[~meetings]
    pd.DataFrame(
        {
            "Id": [f"00TDn{i:013d}" for i in range(len(tasks))],
            "WhoId": tasks["WhoId"].to_numpy(),
            "CreatedDate": tasks["When"].to_numpy(),
            "Type": np.where(tasks["Subject"].to_numpy() == "Call", "Call", "Other"),
            "Subject": tasks["Subject"].to_numpy(),
        }
    ).to_csv(folder / "Task.csv", index=False)
    meeting_rows = activity[meetings]
    pd.DataFrame(
        {
            "Id": [f"00UDn{i:013d}" for i in range(len(meeting_rows))],
            "WhoId": meeting_rows["WhoId"].to_numpy(),
            "StartDateTime": meeting_rows["When"].to_numpy(),
            "Subject": meeting_rows["Subject"].to_numpy(),
        }
    ).to_csv(folder / "Event.csv", index=False)

    status = outcomes[outcomes["stage"].isin(list(words["status"]))]
    history = pd.DataFrame(
        {
            "LeadId": _sf_id("00QDn", status["lead_id"]),
            "Field": "Status",
            "NewValue": _words(status["stage"], words["status"]).to_numpy(),
            "CreatedDate": _sf_time(status["ts"]).to_numpy(),
        }
    )
    # LeadHistory tracks other fields too: the example's query keeps Status changes only
    owners = pd.DataFrame(
        {
            "LeadId": lead_ids.iloc[::7].to_numpy(),
            "Field": "Owner",
            "NewValue": leads["owner"].astype(object).iloc[::7].to_numpy(),
            "CreatedDate": _sf_time(leads["created_at"].iloc[::7]).to_numpy(),
        }
    )
    pd.concat([history, owners], ignore_index=True).to_csv(folder / "LeadHistory.csv", index=False)

    deals = outcomes[outcomes["stage"].isin(["opportunity", "won", "lost"])]
    opened = deals[deals["stage"] == "opportunity"].set_index("lead_id")["ts"]
    closed = deals[deals["stage"] != "opportunity"].set_index("lead_id")
    opportunity = pd.DataFrame({"Lead": opened.index, "CreatedDate": opened.to_numpy()})
    opportunity["StageName"] = (
        opportunity["Lead"].map(closed["stage"]).map({"won": "Closed Won", "lost": "Closed Lost"})
    ).fillna("Proposal/Price Quote")
    opportunity["IsClosed"] = opportunity["StageName"].str.startswith("Closed")
    opportunity["CloseDate"] = _sf_time(opportunity["Lead"].map(closed["ts"]))
    opportunity["CreatedDate"] = _sf_time(opportunity["CreatedDate"])
    opportunity["ConvertedFromLead__c"] = _sf_id("00QDn", opportunity.pop("Lead"))
    opportunity.insert(0, "Id", [f"006Dn{i:013d}" for i in range(len(opportunity))])
    opportunity.to_csv(folder / "Opportunity.csv", index=False)

    intent = tables.intent
    pd.DataFrame(
        {
            "Account__c": _sf_id("001Dn", intent["account_id"]),
            "Signal_Date__c": _sf_time(intent["ts"]),
            "Signal_Type__c": _words(intent["signal_type"], words["signal_type"]),
            "Strength__c": intent["strength"],
        }
    ).to_csv(folder / "IntentSignal.csv", index=False)
    return folder


def _hs_time(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts).dt.strftime("%Y-%m-%d %H:%M:%S")


def write_hubspot_export(tables: Tables, folder: str | Path) -> Path:
    """``companies``, ``contacts``, ``engagements``, ``lifecycle_stage_history`` and
    ``buyer_intent`` CSV files with HubSpot's export headers and values."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    words = HUBSPOT_WORDS
    accounts, leads = tables.accounts, tables.leads
    pd.DataFrame(
        {
            "Record ID": accounts["account_id"],
            "Company name": accounts["name"].astype(object),
            "Industry": accounts["industry"].astype(object).fillna("(No value)"),
            "Number of Employees": accounts["employees"],
            "Annual Revenue": accounts["annual_revenue"],
            "Country/Region": accounts["country"].astype(object),
        }
    ).to_csv(folder / "companies.csv", index=False)
    pd.DataFrame(
        {
            "Record ID": leads["lead_id"],
            "Associated Company ID": leads["account_id"],
            "Create Date": _hs_time(leads["created_at"]),
            "Original Source": _words(leads["source"], words["source"]),
            "First Name": leads["first_name"].astype(object),
            "Last Name": leads["last_name"].astype(object),
            "Job Title": leads["job_title"].astype(object),
            "Seniority": _words(leads["seniority"], words["seniority"]).fillna("(No value)"),
            "Department": leads["department"].astype(object),
            "Email Validation": leads["email_status"].astype(object),
            "Contact owner": leads["owner"].astype(object),
        }
    ).to_csv(folder / "contacts.csv", index=False)
    events = tables.events
    pd.DataFrame(
        {
            "Contact ID": events["lead_id"],
            "Activity date": _hs_time(events["ts"]),
            "Activity type": _words(events["event_type"], words["event_type"]),
        }
    ).to_csv(folder / "engagements.csv", index=False)
    outcomes = tables.outcomes
    pd.DataFrame(
        {
            "Contact ID": outcomes["lead_id"],
            "Lifecycle stage": _words(outcomes["stage"], words["stage"]),
            "Date entered": _hs_time(outcomes["ts"]),
        }
    ).to_csv(folder / "lifecycle_stage_history.csv", index=False)
    intent = tables.intent
    pd.DataFrame(
        {
            "Company ID": intent["account_id"],
            "Date": _hs_time(intent["ts"]),
            "Signal": _words(intent["signal_type"], words["signal_type"]),
            "Strength": intent["strength"],
        }
    ).to_csv(folder / "buyer_intent.csv", index=False)
    return folder

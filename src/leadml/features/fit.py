"""Firmographic fit: who the company is, and whether it matches the ideal customer profile.

Fit is read from the accounts table as it stands (there is no history of
firmographics), one row per lead; :func:`leadml.features.build_features`
then repeats it for each snapshot of the lead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.config import EventDataset
from leadml.features._kernels import (
    as_category,
    both,
    codes_for,
    membership,
    take_category,
    take_float,
    text_categories,
)
from leadml.features.catalogue import FeatureCatalogue, FeatureInfo
from leadml.features.columns import Column

__all__ = ["REGIONS", "fit_catalogue", "fit_columns", "region_of"]

# ISO 3166 alpha-2 codes and common English names -> a world region.
# fmt: off
_REGION_CODES: dict[str, tuple[str, ...]] = {
    "north_america": ("us", "ca"),
    "latin_america": (
        "mx", "br", "ar", "cl", "co", "pe", "uy", "py", "bo", "ec", "ve", "cr", "pa", "gt",
        "do", "cu", "hn", "sv", "ni", "pr", "jm", "tt",
    ),
    "europe": (
        "gb", "uk", "ie", "fr", "de", "nl", "be", "lu", "ch", "at", "it", "es", "pt", "dk",
        "se", "no", "fi", "is", "pl", "cz", "sk", "hu", "ro", "bg", "gr", "si", "hr", "rs",
        "ba", "me", "mk", "al", "ee", "lv", "lt", "ua", "by", "md", "mt", "cy", "mc", "li",
        "ad", "sm", "ru",
    ),
    "middle_east_africa": (
        "ae", "sa", "qa", "kw", "bh", "om", "il", "jo", "lb", "tr", "eg", "ma", "dz", "tn",
        "za", "ng", "ke", "gh", "sn", "ci", "et", "tz", "ug", "rw", "cm", "ir", "iq",
    ),
    "asia_pacific": (
        "cn", "jp", "kr", "in", "sg", "hk", "tw", "au", "nz", "id", "my", "th", "vn", "ph",
        "pk", "bd", "lk", "mn", "kz",
    ),
}
_REGION_NAMES: dict[str, str] = {
    "united states": "north_america", "usa": "north_america", "united states of america": "north_america",
    "canada": "north_america", "mexico": "latin_america", "brazil": "latin_america",
    "argentina": "latin_america", "chile": "latin_america", "colombia": "latin_america",
    "peru": "latin_america", "united kingdom": "europe", "great britain": "europe",
    "england": "europe", "ireland": "europe", "france": "europe", "germany": "europe",
    "netherlands": "europe", "belgium": "europe", "luxembourg": "europe", "switzerland": "europe",
    "austria": "europe", "italy": "europe", "spain": "europe", "portugal": "europe",
    "denmark": "europe", "sweden": "europe", "norway": "europe", "finland": "europe",
    "poland": "europe", "czechia": "europe", "czech republic": "europe", "hungary": "europe",
    "romania": "europe", "greece": "europe", "ukraine": "europe", "russia": "europe",
    "united arab emirates": "middle_east_africa", "saudi arabia": "middle_east_africa",
    "israel": "middle_east_africa", "turkey": "middle_east_africa", "egypt": "middle_east_africa",
    "morocco": "middle_east_africa", "south africa": "middle_east_africa",
    "nigeria": "middle_east_africa", "kenya": "middle_east_africa", "china": "asia_pacific",
    "japan": "asia_pacific", "south korea": "asia_pacific", "korea": "asia_pacific",
    "india": "asia_pacific", "singapore": "asia_pacific", "hong kong": "asia_pacific",
    "taiwan": "asia_pacific", "australia": "asia_pacific", "new zealand": "asia_pacific",
    "indonesia": "asia_pacific", "malaysia": "asia_pacific", "thailand": "asia_pacific",
    "vietnam": "asia_pacific", "philippines": "asia_pacific",
}
# fmt: on
REGIONS: tuple[str, ...] = (*_REGION_CODES, "other")
_REGION_LOOKUP: dict[str, str] = {
    code: region for region, codes in _REGION_CODES.items() for code in codes
} | _REGION_NAMES


def region_of(country: str | None) -> str | None:
    """World region of a country code or name ("FR" -> "europe"); ``"other"`` when unknown."""
    if country is None or (isinstance(country, float) and np.isnan(country)):
        return None
    key = str(country).strip().lower().replace("_", " ")
    if not key:
        return None
    return _REGION_LOOKUP.get(key, "other")


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def fit_columns(
    leads: pd.DataFrame, accounts: pd.DataFrame, dataset: EventDataset
) -> dict[str, Column]:
    """Fit features per lead (name -> values aligned with ``leads``); leads without an account
    get missing values."""
    account_row = codes_for(leads["account_id"], accounts["account_id"])
    icp = dataset.icp

    industry = as_category(accounts.get("industry"), len(accounts))
    country = as_category(accounts.get("country"), len(accounts))
    # one lookup per distinct country, then codes all the way
    region_dtype = text_categories(tuple(sorted(REGIONS)))
    region_of_country = region_dtype.categories.get_indexer(
        [region_of(c) for c in country.categories]
    )
    country_codes = np.asarray(country.codes)
    account_region = pd.Categorical.from_codes(
        np.where(country_codes >= 0, region_of_country[np.maximum(country_codes, 0)], -1)
        if region_of_country.size
        else np.full(country_codes.size, -1),
        dtype=region_dtype,
    )

    employees = take_float(_numbers(accounts, "employees"), account_row)
    revenue = take_float(_numbers(accounts, "annual_revenue"), account_row)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_employees = np.where(employees >= 0, np.log1p(np.maximum(employees, 0)), np.nan)
    size_in_range = np.where(
        np.isnan(employees),
        np.nan,
        ((employees >= icp.employees_min) & (employees <= icp.employees_max)).astype(np.float64),
    )
    lead_industry = take_category(industry, account_row)
    industry_match = (
        membership(lead_industry, icp.industries)
        if icp.industries
        else np.where(np.asarray(lead_industry.codes) >= 0, 1.0, np.nan)
    )
    return {
        "industry": lead_industry,
        "employees": employees,
        "log_employees": log_employees,
        "annual_revenue": revenue,
        "country": take_category(country, account_row),
        "region": take_category(account_region, account_row),
        "size_in_range": size_in_range,
        "industry_match": industry_match,
        "icp_match": both(size_in_range, industry_match),
    }


def fit_catalogue(dataset: EventDataset) -> FeatureCatalogue:
    """The entries of :func:`fit_columns`: who the company is."""
    icp = dataset.icp
    return FeatureCatalogue(
        entries=(
            FeatureInfo("industry", "fit", "industry", "categorical", "Industry of the account"),
            FeatureInfo("employees", "fit", "company_size", "numeric", "Employees of the account"),
            FeatureInfo("log_employees", "fit", "company_size", "numeric", "log(1 + employees)"),
            FeatureInfo(
                "annual_revenue", "fit", "revenue", "numeric", "Annual revenue of the account"
            ),
            FeatureInfo("country", "fit", "geography", "categorical", "Country of the account"),
            FeatureInfo(
                "region", "fit", "geography", "categorical", "World region derived from the country"
            ),
            FeatureInfo(
                "size_in_range",
                "fit",
                "company_size",
                "numeric",
                f"1 if employees is within the ICP range [{icp.employees_min:g}, "
                f"{icp.employees_max:g}], 0 if not, missing if employees is unknown",
            ),
            FeatureInfo(
                "industry_match",
                "fit",
                "industry",
                "numeric",
                "1 if the industry is an ICP industry",
            ),
            FeatureInfo(
                "icp_match",
                "fit",
                "icp_fit",
                "numeric",
                "1 if both the size and the industry match the ICP",
            ),
        ),
        group_main={
            "industry": "industry",
            "company_size": "employees",
            "revenue": "annual_revenue",
            "geography": "region",
            "icp_fit": "icp_match",
        },
    )

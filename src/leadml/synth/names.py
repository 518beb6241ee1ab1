"""Fake names built from syllables: companies, people, sales reps and job titles.

No real personal data: every name is an invented combination of syllables.
Pools are fixed lists (no randomness here); the generator draws indices into
them, so a million names cost one ``take``.
"""

from __future__ import annotations

from functools import cache
from itertools import product

import numpy as np

from leadml.synth.params import DEPARTMENTS, SENIORITY

__all__ = ["company_names", "first_names", "job_titles", "last_names", "owner_names", "title_codes"]

_COMPANY_SYLLABLES = (
    "ver", "ta", "lon", "mar", "qui", "zen", "tor", "bel", "cor", "dex", "al", "ix",
    "no", "va", "ri", "sen", "tri", "um", "lo", "ka", "ne", "xo",
)  # fmt: skip
_COMPANY_SUFFIXES = (
    "Systems", "Labs", "Group", "Industries", "Solutions", "Partners", "Analytics",
    "Holdings", "Networks", "Works", "SA", "GmbH", "Ltd",
)  # fmt: skip
_FIRST_HEADS = (
    "Al", "Be", "Ca", "Da", "El", "Fa", "Ga", "Ha", "Il", "Jo",
    "Ka", "Le", "Ma", "No", "Ol", "Pa", "Ro", "Sa", "Ta", "Vi",
)  # fmt: skip
_FIRST_TAILS = ("ric", "lia", "mon", "nna", "ron", "sa", "tan", "vin", "za", "lo")
_LAST_HEADS = (
    "Bar", "Cor", "Dal", "Fen", "Gar", "Hol", "Kes", "Lor",
    "Mar", "Nor", "Pel", "Ros", "Sal", "Tor", "Val", "Wen",
)  # fmt: skip
_LAST_TAILS = (
    "bec",
    "den",
    "ford",
    "gard",
    "holm",
    "lin",
    "mont",
    "ney",
    "rot",
    "sen",
    "vik",
    "ward",
)


@cache
def company_names() -> tuple[str, ...]:
    """Every stem of two or three syllables with every suffix (about 147,000 names)."""
    stems = ["".join(p).capitalize() for n in (2, 3) for p in product(_COMPANY_SYLLABLES, repeat=n)]
    return tuple(f"{stem} {suffix}" for stem in stems for suffix in _COMPANY_SUFFIXES)


@cache
def first_names() -> tuple[str, ...]:
    return tuple(h + t for h in _FIRST_HEADS for t in _FIRST_TAILS)


@cache
def last_names() -> tuple[str, ...]:
    return tuple(h + t for h in _LAST_HEADS for t in _LAST_TAILS)


def owner_names(n: int) -> tuple[str, ...]:
    """``n`` fixed sales reps (first + last name), the same for every seed."""
    first, last = first_names(), last_names()
    return tuple(
        f"{first[(37 * i + 11) % len(first)]} {last[(53 * i + 7) % len(last)]}" for i in range(n)
    )


# Job titles by (seniority, department): the title always agrees with both.
_TITLES: dict[str, tuple[str, ...]] = {
    "c_level": (
        "CIO",
        "CTO",
        "COO",
        "CFO",
        "CMO",
        "Chief Revenue Officer",
        "Chief People Officer",
        "CEO",
    ),
    "vp": (
        "VP of IT",
        "VP Engineering",
        "VP Operations",
        "VP Finance",
        "VP Marketing",
        "VP Sales",
        "VP Human Resources",
        "Vice President",
    ),  # fmt: skip
    "director": (
        "IT Director",
        "Director of Engineering",
        "Operations Director",
        "Finance Director",
        "Marketing Director",
        "Sales Director",
        "HR Director",
        "Director",
    ),  # fmt: skip
    "manager": (
        "IT Manager",
        "Engineering Manager",
        "Operations Manager",
        "Finance Manager",
        "Marketing Manager",
        "Sales Manager",
        "HR Manager",
        "Office Manager",
    ),  # fmt: skip
    "individual_contributor": (
        "Systems Administrator",
        "Software Engineer",
        "Operations Analyst",
        "Accountant",
        "Marketing Specialist",
        "Account Executive",
        "HR Specialist",
        "Consultant",
    ),  # fmt: skip
    "student": ("Student",) * 8,
}


@cache
def job_titles() -> tuple[str, ...]:
    """The distinct job titles, in first-seen order over (seniority, department)."""
    seen: dict[str, None] = {}
    for s in SENIORITY:
        for title in _TITLES[s]:
            seen.setdefault(title, None)
    return tuple(seen)


@cache
def _title_table() -> np.ndarray:
    position = {t: i for i, t in enumerate(job_titles())}
    return np.array(
        [[position[_TITLES[s][d]] for d in range(len(DEPARTMENTS))] for s in SENIORITY],
        dtype=np.int16,
    )


def title_codes(seniority: np.ndarray, department: np.ndarray) -> np.ndarray:
    """Index into :func:`job_titles` for each (seniority code, department code)."""
    return _title_table()[seniority, department]

"""Internal feature names: safe for LightGBM, unique, stable; the user's name kept for display.

LightGBM rewrites feature names (spaces become ``_``) and refuses JSON
characters (``"`` ``,`` ``:`` ``[`` ``]`` ``{`` ``}``), so a column called
``Lead Origin`` comes back from the booster as ``Lead_Origin`` and no longer
matches anything keyed by the user's name. Every model input therefore has an
internal name made of ASCII letters, digits, ``_``, ``.`` and ``-``: the
user's name itself when it already is one, otherwise a transliterated slug
(``Durée de visite`` -> ``Duree_de_visite``). Names are unique without regard
to case (databases fold case), with ``_2``, ``_3``... on a clash; names that
are already safe keep theirs first, so the result does not depend on which
other columns happen to be declared beside them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["is_safe_name", "name_token", "safe_names"]

_SAFE = re.compile(r"[A-Za-z0-9_.\-]+")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9_.\-]+")


def is_safe_name(name: str) -> bool:
    """True when LightGBM, MLflow and SQL keep ``name`` exactly as written."""
    return bool(_SAFE.fullmatch(name))


def name_token(name: str) -> str:
    """``name`` made safe: accents dropped, every other run of unsafe characters -> ``_``.

    >>> name_token("Durée de visite (s)")
    'Duree_de_visite_s'
    """
    if is_safe_name(name):
        return name
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    token = _UNSAFE_RUN.sub("_", ascii_text).strip("_")
    return token or "column"


def safe_names(names: Sequence[str], *, taken: Iterable[str] = ()) -> dict[str, str]:
    """Each name -> its internal name: unique (ignoring case), safe, deterministic.

    ``taken`` are internal names already in use (other features). Names that
    are safe as written keep them unless an earlier one (or ``taken``) holds
    the same name in another case; the others get a token, suffixed ``_2``,
    ``_3``... until it is free.

    >>> safe_names(["Lead Origin", "Lead_Origin", "score", "Score"])
    {'Lead Origin': 'Lead_Origin_2', 'Lead_Origin': 'Lead_Origin', 'score': 'score', 'Score': 'Score_2'}
    """
    repeated = sorted({n for n in names if list(names).count(n) > 1})
    if repeated:
        raise ValueError(f"column names must be unique; repeated: {repeated}")
    used = {t.lower() for t in taken}
    out: dict[str, str] = {}
    for name in names:  # safe names first: they keep their spelling
        if is_safe_name(name) and name.lower() not in used:
            out[name] = name
            used.add(name.lower())
    for name in names:
        if name in out:
            continue
        base = name_token(name)
        candidate, k = base, 2
        while candidate.lower() in used:
            candidate, k = f"{base}_{k}", k + 1
        out[name] = candidate
        used.add(candidate.lower())
    return {name: out[name] for name in names}

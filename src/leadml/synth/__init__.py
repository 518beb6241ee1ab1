"""A synthetic B2B CRM whose true conversion drivers are known.

``generate_crm`` (in memory) and ``write_demo_data`` (files, streamed by
chunks) produce the five contract tables of ``training/dataset.yaml``
(accounts, leads, events, intent, outcomes) plus the ground truth: per lead,
the probability of reaching SQL, its time-to-SQL distribution and P(won |
SQL) (``truth.parquet``, read by :mod:`leadml.synth.oracle`), and the true drivers
with their directions and the attributes with no effect (``truth.json``).

The generative story, in order: accounts (size, industry, country, a hidden
"in market" state) -> leads (channel, persona, email status) -> each lead's
latent state (interest, buying moment, first-touch delay, unsubscribing) ->
p_sql and the time-to-SQL distribution -> the realised funnel -> events and
intent signals. Events before the realised SQL depend on the latent state
only, so the oracle, which knows that state, is an honest upper bound.

>>> crm = generate_crm(SynthSpec(n_leads=2000, seed=7))  # doctest: +SKIP
>>> crm.info["funnel"]["sql_rate"]  # doctest: +SKIP
"""

from leadml.synth.crm import TABLE_NAMES, DemoData, SyntheticCRM, generate_crm, write_demo_data
from leadml.synth.generator import FunnelCounts, SynthSpec, funnel_rates
from leadml.synth.params import GENERATOR_VERSION, GeneratorParams
from leadml.synth.truth import NO_EFFECT, TRUTH_COLUMNS

__all__ = [
    "GENERATOR_VERSION",
    "NO_EFFECT",
    "TABLE_NAMES",
    "TRUTH_COLUMNS",
    "DemoData",
    "FunnelCounts",
    "GeneratorParams",
    "SynthSpec",
    "SyntheticCRM",
    "funnel_rates",
    "generate_crm",
    "write_demo_data",
]

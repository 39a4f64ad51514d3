"""The sample-data generator: a realistic product's events and metrics as landing files.

`warehouse-generate` (see `cli`) writes contract-conformant Parquet into
`<out>/<dataset>/date=YYYY-MM-DD/part-NNNN.parquet`, partitioned by arrival date, with the
messiness real landings have: redeliveries, late arrivals, device clock skew, missing session
ids, crawlers and a few rows that break the contract.
"""

from orchestration.generator.config import GeneratorConfig
from orchestration.generator.generate import GenerationSummary, generate

__all__ = ["GenerationSummary", "GeneratorConfig", "generate"]

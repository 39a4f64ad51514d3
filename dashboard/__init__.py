"""The dashboard: Streamlit pages with Altair charts over the published marts.

It reads the read-only publication (`warehouse/published/current/analytics.duckdb`), never the
warehouse itself, so it neither waits for a run nor holds one up, and each query resolves
`current` anew, so it shows a new publication as soon as it is swapped in. `make dashboard`
serves it; `python -m dashboard --help` says how.
"""

from pathlib import Path

VIEWS = Path(__file__).parent / "views"
# The pages, in the order of the navigation: file in views/, title, icon.
PAGES = [
    ("overview.py", "Overview", ":material/dashboard:"),
    ("pages.py", "Pages", ":material/article:"),
    ("acquisition.py", "Acquisition", ":material/call_split:"),
    ("audience.py", "Audience", ":material/groups:"),
    ("funnels.py", "Funnels", ":material/filter_alt:"),
    ("retention.py", "Retention", ":material/grid_on:"),
    ("features.py", "Features", ":material/extension:"),
    ("metrics.py", "Metrics", ":material/monitoring:"),
    ("deployments.py", "Deployments", ":material/rocket_launch:"),
]

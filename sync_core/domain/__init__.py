"""The pure domain: events, sources, configuration, mapping, rules, evaluation, contact state and planning.

No I/O and no outside systems here (no database, no HTTP, no Streamlit), so that every rule of what a sync
means can be tested with plain values; the import-linter contract in ``pyproject.toml`` keeps it so.
"""

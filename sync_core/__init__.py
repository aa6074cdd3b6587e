"""The sync domain: sources, configuration, mapping, rules, planning, MailerLite client and sandbox.

Nothing here imports Streamlit; the dashboard pages call into this package, never the other way round.
"""

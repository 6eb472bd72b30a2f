"""Exports for the street's office: the weekly risk review (xlsx + PDF brief) and the yearly
rule-of-law statistics (docs/contract.md §7). Text in the files is Simplified Chinese; persons appear by their
pseudonymous id unless an analyst reveals them (audited, pipeline/persons/registry.py).

Layout: period.py (week/year boundaries in the area's time zone), sqlhelp.py (portable SQL bits),
weekly_*.py (one concern each: events, scores, alerts), review.py (assembles a WeeklyReview),
writers.py (the table of exporters), xlsx.py / pdf.py / charts.py (the formats), annual.py and
annual_docx.py (docs/contract.md §7).
"""

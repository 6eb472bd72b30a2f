"""Cases, the meeting's decisions and its weekly brief (docs/contract.md §8).

- model.py     CaseRecord: state, owner, due, overdue and days_overdue at any time
- derive.py    derive_cases(conn, assignments, as_of, refs): cases from stored events, alerts, actions
- store.py     the `cases` table the storage writer keeps current (refresh_cases, touched_refs)
"""

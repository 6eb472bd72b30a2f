"""Cases, the meeting's decisions and its weekly brief (docs/contract.md §8; docs/cases.md).

- model.py      CaseRecord: state, owner, due, overdue and days_overdue at any time
- derive.py     derive_cases(conn, assignments, as_of, refs) / derive_case: cases from stored events,
                alerts and people's actions, exactly as of any time
- store.py      the `cases` table the storage writer keeps current (refresh_cases, touched_refs)
- actions.py    notes (处置措施 / 进展), 转办 and closing by hand, audited (add_note, reassign, close_case)
- decisions.py  the meeting's decisions (add_decision, mark_done, list_decisions)
- brief.py      meeting_brief(conn, area, assignments, week): the §8 JSON object
"""

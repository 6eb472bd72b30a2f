"""The alert workflow after raising (docs/contract.md §5): reading alerts, acknowledging and closing them,
escalation along the assignee's chain, and resolution. Transport-free: the CLI, the HTTP API and the
notifier all go through these modules, so every state change is recorded the same way.

    records.py     read alerts, their history, their top contributions and deliveries
    actions.py     acknowledge / close / escalate / resolve: one transaction each, history + audit
    access.py      who may see and act on which alert (roles, the leader's chain)
    escalation.py  which unacknowledged alerts are due to escalate at `now`
    resolution.py  which acknowledged alerts have fallen below alert_level at `now`
"""

"""Alert delivery (docs/contract.md §5): channels, notices in Chinese, the notification log, the notifier.

    channels/      one module per channel behind `Channel`, registered in channels/__init__.py CHANNELS
    config.py      config/channels.yaml: how each leader is reached (secrets by environment variable name)
    notices.py     what a notice says (raised / upgraded / escalated / resolved / closed), grouped messages
    outbox.py      the notification log: plan notices, claim due groups, record outcomes
    delivery.py    one message on one channel, with retries and backoff
    notifier.py    one pass (escalate, resolve, plan, deliver) and the loop until SIGTERM
"""

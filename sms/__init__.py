"""Action Line domain: conversation, compliance, storage, transport and jobs.

Nothing in this package imports Flask; handlers/ adapts HTTP to these functions.
"""

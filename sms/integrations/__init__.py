"""Other tools of the movement: the event log, signed webhooks, Action Network sync, opt-outs from a CRM."""

"""Web actions: the public action pages (/act/<keyword>), the embeddable widget, the JSON API and the counter.

A supporter on a campaign page enters a ZIP and a phone number and is called back, through
the same guards and call-back machinery as a texter's CALL (``sms.calls``); the web adds
its own guards against bots (``guards``, ``confirm``) and records a web opt-in with its
exact wording (``consent``). Handlers live in ``handlers/actions.py`` and ``handlers/api.py``.
"""

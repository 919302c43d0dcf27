"""Thin Flask blueprints: parse the request, call ``sms``, render TwiML or HTML."""

"""The organizer console's domain: dashboard, exports, inbox, organizers, demand editing."""

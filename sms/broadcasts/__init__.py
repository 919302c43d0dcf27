"""Organizer broadcasts and reminders: audiences, planning, paced dispatch, recovery."""

"""Texts in and out: the conversation, compliance, subscribers, delivery and SMS encoding."""

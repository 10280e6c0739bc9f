"""Slack surface (see issue 3)."""

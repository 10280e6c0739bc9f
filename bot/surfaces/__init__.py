"""Surfaces: the CLI, the REPL, terminal rendering and the Slack app."""

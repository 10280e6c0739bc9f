"""The read side of newsbot: retrieval, answers with citations, and the REPL and Slack surfaces."""

"""The answering core: retrieval, answer steps, citation checks and the chain."""

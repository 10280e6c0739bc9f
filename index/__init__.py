"""The write side of newsbot: load articles, chunk, embed and store them in Chroma."""

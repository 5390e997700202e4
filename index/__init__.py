"""Ingestion: a staff file to a stored index version (articles, passages, vectors, BM25).

May import: nothing of bot (every stage above reads the index; the index knows none of them).
"""

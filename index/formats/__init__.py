"""Readers for each kind of bulletin file (text, PDF, Word, web page), each giving a Document.

May import: index.
"""

"""bulletin-bot: answers residents' questions by quoting a district's news bulletin.

The subpackages follow the data flow; docs/architecture.md says what each may import.
"""

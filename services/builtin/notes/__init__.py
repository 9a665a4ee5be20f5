"""notes: short titled texts, private to each account.

The service registers itself in NotesConfig.ready(), once models can be imported.
"""

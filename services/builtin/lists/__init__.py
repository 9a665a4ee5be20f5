"""lists: named lists of text items, private to each account.

The service registers itself in ListsConfig.ready(), once models can be imported.
"""

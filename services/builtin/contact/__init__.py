"""contact: an address book of people and organisations, private to each account.

The service registers itself in ContactConfig.ready(), once models can be imported.
"""

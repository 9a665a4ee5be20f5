"""chat: rooms with members, stored messages and a live stream per room, private to each account.

The service registers itself in ChatConfig.ready(), once models can be imported.
"""

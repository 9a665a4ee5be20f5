"""stream: named channels of text messages, stored and streamed live, private to each account.

The service registers itself in StreamConfig.ready(), once models can be imported.
"""

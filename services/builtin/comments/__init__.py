"""comments: texts filed under a subject, private to each account.

The service registers itself in CommentsConfig.ready(), once models can be imported.
"""

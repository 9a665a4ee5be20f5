"""secret: values encrypted at rest under names, private to each account.

The service registers itself in SecretConfig.ready(), once models can be imported.
"""

"""user: sign-up, sign-in and sessions for the caller's own end users.

The service registers itself in UserConfig.ready(), once models can be imported.
"""

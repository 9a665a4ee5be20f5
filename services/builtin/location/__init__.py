"""location: the last known position of the caller's entities, searchable by distance.

The service registers itself in LocationConfig.ready(), once models can be imported.
"""

"""db: JSON records in named tables, private to each account, with a small query language.

The service registers itself in DbConfig.ready(), once models can be imported.
"""

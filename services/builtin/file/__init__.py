"""file: text files grouped in projects, private to each account unless saved as public.

The service registers itself in FileConfig.ready(), once models can be imported.
Public files are served by views.public_file under /f/ on the platform's host.
"""

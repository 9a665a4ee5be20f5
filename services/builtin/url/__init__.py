"""url: short links that redirect to http and https addresses, counting visits.

The service registers itself in UrlConfig.ready(), once models can be imported. The public
redirect route is /u/<id>, in urls.py beside this file.
"""

"""rss: follow RSS and Atom feeds and read their entries.

The service registers itself in RssConfig.ready(), once models can be imported.
Feeds are fetched by Celery through the outbound guard (services/outbound.py):
once when added, then by tasks.crawl_due every M3O_RSS_CRAWL_INTERVAL_SECONDS.
"""

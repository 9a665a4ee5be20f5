"""The streaming transport: stream endpoints over WebSocket or newline-delimited JSON.

A stream endpoint (``streaming`` in the catalog) is opened on its usual
``/v1/<service>/<endpoint>`` path, either as a WebSocket upgrade (the first
text frame is the request, each message is one JSON text frame) or as a POST
whose response is ``application/x-ndjson``, one JSON message per line. Both run in
the ASGI process (``m3o_web.asgi``), never in a WSGI worker.

The stream is opened through the gateway's own steps (route, authenticate,
authorize, rate limit, validate); then each message sent is charged the
endpoint's price like one call. A stream ends with an error frame in the
envelope when the key stops being usable, the balance runs out or the server
shuts down.
"""

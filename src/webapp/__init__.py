"""The Flask driver of the commerce core: app factory (``webapp.app.create_app``),
configuration, composition root, JSON API and the ``commerce`` command line."""

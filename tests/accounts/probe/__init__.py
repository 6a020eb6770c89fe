"""A test app with a route that declares OPTIONS, to see whether AuthMiddleware lets it run."""

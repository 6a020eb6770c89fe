"""Middlewares that ship with the framework; activate them in ``[middlewares] active``."""

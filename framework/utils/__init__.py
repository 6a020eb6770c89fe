"""Small helpers with Backendpy's module names (``framework.utils.http``)."""

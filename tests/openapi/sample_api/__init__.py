"""A test app exercising every field location and every documented validator."""

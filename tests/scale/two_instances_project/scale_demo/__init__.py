"""A small app whose answers show what the instances of one project share."""

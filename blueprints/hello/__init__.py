"""The minimal sample app: a text route, a template page and a hook."""

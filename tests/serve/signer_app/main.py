"""An app that declares it signs with the secret key, and nothing else."""

from framework.app import App

app = App(needs_secret_key=True)

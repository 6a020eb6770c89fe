"""Where the test init functions write what they saw (a file named by an env variable)."""

import json
import os


def record(entry):
    with open(os.environ["INIT_RECORD_FILE"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")

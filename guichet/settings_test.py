"""Settings for the test suite: the normal settings read with GUICHET_ENV=test."""

import os
import tempfile

os.environ["GUICHET_ENV"] = "test"

from guichet.settings import *  # noqa: F403

# Uploaded files of the tests go to a throwaway folder, never into ./var.
MEDIA_ROOT = tempfile.mkdtemp(prefix="guichet-test-media-")

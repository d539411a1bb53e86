"""Settings for the test suite: the normal settings read with GUICHET_ENV=test."""

import os

os.environ["GUICHET_ENV"] = "test"

from guichet.settings import *  # noqa: F403

"""Settings of benchmarks/http_serving.py's server: the normal ones, plus a query count per
response. Never used outside that benchmark (it is not in the package)."""

from guichet.settings import *  # noqa: F403
from guichet.settings import MIDDLEWARE

MIDDLEWARE = ["http_query_count.QueryCountMiddleware", *MIDDLEWARE]

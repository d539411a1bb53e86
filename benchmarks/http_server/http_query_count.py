"""Benchmark only: every response says how many SQL queries it cost (`X-Query-Count`) and the
CPU time its worker spent on it (`X-CPU-Ms`: unlike the wall time, it hardly depends on what
else the machine runs)."""

import time

from django.db import connection


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0
        cpu = time.thread_time()

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count)
        response["X-CPU-Ms"] = f"{(time.thread_time() - cpu) * 1000:.1f}"
        return response

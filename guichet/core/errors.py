"""The error a service raises when a business action is refused.

It carries a clear message for the user (which field, why) and changes nothing: services raise
it before writing, or inside the transaction that it rolls back.
"""


class ServiceError(Exception):
    """A refused business action; `code` is stable, `message` is for people."""

    code = "refused"

    def __init__(self, message: str, *, field: str | None = None, details=None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details

"""The refusal every grant service raises."""

from guichet.core.errors import ServiceError


class GrantRefused(ServiceError):
    code = "grant_refused"

"""Domain errors are plain exceptions, mapped to HTTP in one table."""

import pytest
from rest_framework.exceptions import APIException

from cases import exceptions
from cases.exception_handlers import ERROR_STATUS, api_exception_handler

DOMAIN_ERRORS = [
    value
    for value in vars(exceptions).values()
    if isinstance(value, type) and issubclass(value, exceptions.DomainError)
]


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda e: e.__name__)
def test_a_domain_error_is_plain_python_and_has_an_http_status(error):
    assert not issubclass(error, APIException)
    assert error is exceptions.DomainError or error in ERROR_STATUS


def test_the_api_handler_answers_a_domain_error_with_its_status_and_code():
    response = api_exception_handler(exceptions.LeaseLost("your claim expired"), {})

    assert response.status_code == 409
    assert response.data == {
        "message": "your claim expired",
        "extra": {"code": "lease_lost"},
    }

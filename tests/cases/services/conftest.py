"""The workbench personas and case builder, shared with the service tests."""

from tests.cases.web.conftest import (  # noqa: F401 (fixtures)
    lead,
    make_case,
    reviewer,
    second_reviewer,
)

"""The `qa-review` command: parses arguments, calls the service layer.

Library errors (QAReviewError) become click errors with the message as is;
anything else is a bug and keeps its traceback.
"""

from qa_review.cli import (  # noqa: F401  (they register)
    admin,
    call_log,
    calls,
    checklists,
    config,
    exports,
    kpis,
    models,
    serve,
    training,
    users,
)
from qa_review.cli.base import cli


def main() -> None:
    cli(prog_name="qa-review")

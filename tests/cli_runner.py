"""Running `qa-review` in-process the way a user types it."""

from click.testing import CliRunner

from qa_review.cli import cli


def invoke(*args, env=None, input=None):
    result = CliRunner(env=env).invoke(cli, [str(a) for a in args], input=input)
    # A clean refusal ends in SystemExit; anything else is a traceback the user would see.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result

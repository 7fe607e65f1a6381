"""Shared by the tests of the exercise checks."""


def not_yet(*args, **kwargs):
    """An exercise the student has not solved yet, as the generated chapter leaves it."""
    raise NotImplementedError()


def assert_named(result, named):
    """The check failed (❌) and its message names the mistake with the words ``named``."""
    assert not result.ok
    assert result.message.startswith("❌"), result.message
    assert named in result.message, result.message

"""[acme] back-off: a failing certificate waits retry_first, doubled after each failure in a row, up to retry_max."""

from smb_suite.ops.certificates import retry_delay

MINUTE, DAY = 60.0, 86400.0


def test_each_failure_in_a_row_doubles_the_wait_up_to_retry_max() -> None:
    waits = [retry_delay(failures, 10 * MINUTE, DAY) for failures in range(1, 10)]
    assert waits[:4] == [10 * MINUTE, 20 * MINUTE, 40 * MINUTE, 80 * MINUTE]
    assert waits[-1] == DAY and max(waits) == DAY
    assert retry_delay(10_000, 10 * MINUTE, DAY) == DAY  # no overflow after months of failures

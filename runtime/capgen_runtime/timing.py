"""Default deadlines that the settings and the generated deployment files share (the
generator reads them without importing the settings and the HTTP stack behind them)."""

TOTAL_TIMEOUT = 60.0  # the default overall upstream deadline, seconds
DRAIN_MARGIN = 5.0  # the default drain period exceeds the total upstream deadline by this much

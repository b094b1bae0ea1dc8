"""What every HTTP adapter shares: request checks (credentials, Host and Origin, CORS),
problems, request logs, metrics and health probes."""

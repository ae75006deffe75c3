"""Cocotte's benchmark suite: `make bench` (= `.venv/bin/python -m bench`), figures in docs/PERFORMANCE.md.

Benchmarks are not tests: they print figures and record them (raw JSON in bench/results/, git-ignored), and
say which targets are met. Everything runs on dedicated PostgreSQL databases that the suite creates and
drops, against gunicorn on the loopback interface:

- `bench.availability`: a site's week through GET /api/v1/availability, with 10,000 and 1,000,000 bookings,
  and the EXPLAIN (ANALYZE, BUFFERS) of the bookings query.
- `bench.throughput`: POST /api/v1/bookings under concurrent clients (distinct and contended slots) against a
  minimal Django JSON view served the same way; then the overlap count in SQL.
- `bench.comparison`: a deterministic data set (one site, 50 resources, 50,000 bookings and 100 weekly
  series), exported as CSV/JSON so that other systems can be measured on the same work, and the figures of
  four operations on it.
- `bench.billing`: a month's billing run for 1,000 members (drafts, numbers, PDF/A-3 with Factur-X in two
  worker processes), timed per part with the CPU of every process, and where one PDF's time goes.

The phase modules run in their own processes (Django's settings bind one database per process); the
orchestrator in `bench.__main__` creates the databases, seeds them and collects the results.
"""

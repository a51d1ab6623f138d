"""The ops dashboard (issue 12): its numbers (queries.py), a subject's timeline bands
(bands.py), the live feed (live.py) and the static single-page app (static/), served
by services/ledger/api_dashboard.py. See docs/dashboard.md."""

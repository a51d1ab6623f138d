"""The ledger's read models (status, designations, tasks, identifiers, public lists):
rows that are a pure function of each subject's events, kept up to date by ingest.

- rows.py: one subject's rows, computed from its events (pure);
- refresh.py: refresh the subjects a batch touched, or rebuild everything;
- changed_rows.py: write only the rows that changed, when the stored ones are known;
- bulk_sql.py: the set-based statements those writes use (one per table per batch).
"""

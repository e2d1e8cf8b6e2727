"""Fault injection against the real services, on both backends, counting lost, duplicated and dead-lettered records.

    python -m bench.faults [--backend embedded|kafka|both] [--kafka kafka://... --es elasticsearch://...
                            --noida-dir DIR] [--listings N] [--only SCENARIO ...]

Each scenario starts the classifier (the `kcnguard classifier` command, in its own processes) on a
fresh namespace, publishes synthetic listings and poison records, injects its fault, waits for the
pipeline to settle and then counts, from the store and the dead-letter topic:
  lost          a published listing not stored, or a flagged score without its case;
  duplicated    a listing stored with the same capture twice, or a case opened twice;
  dead-lettered what the dead-letter topic holds (only the poison records belong there).
Every scenario must show 0 lost and 0 duplicated. The Kafka + Elasticsearch run needs the noida-db
test server (its data dir, so broker and store can be stopped and started).
"""

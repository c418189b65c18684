"""Stream and bulk ingestion: files, HTTP bulk and brokers through the one write pipeline.

A message is one change (apply or delete) with an event id. Messages are collected
into batches (by size and time), each applied in one transaction through
``WritePipeline.commit``; the batch's event ids and dead letters are written in the
same transaction, and a broker is acknowledged only after that commit. See
docs/ingest.md.
"""

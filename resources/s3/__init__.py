"""S3: buckets (bucket.py) and each bucket setting as a resource of its own (settings.py), with
the conversions of the settings' nested blocks (blocks.py) and S3's retried writes (writes.py)."""

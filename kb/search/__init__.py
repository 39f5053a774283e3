"""A search in named phases: understand the query, retrieve both sides, fuse, fetch sections, judge answered, respond."""

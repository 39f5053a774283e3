"""The index on disk: one generation's articles, chunks, keyword index and vectors, published atomically and replicated."""

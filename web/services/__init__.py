"""What the blueprints share: the searcher and databases per app, security, editing, re-indexing, serving."""

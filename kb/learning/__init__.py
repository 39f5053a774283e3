"""Learning from the support loop: what readers opened, voted and agents marked lifts or sinks a result.

The log's events (`events`) become per-query signals under a position-based
click model (`model`); a new query pools the evidence of the logged queries near
it in embedding space (`neighbours`) that ask its question (`questions`: their
readers found the same answers); and what any of it may change in a ranking is
bounded (`caps`): a score step of at most ±0.8, a lift of at most ten ranks, and
no change of the first three unless ten or more distinct readers back it and it
holds without the strongest nine of them.
`learner.Learner` holds one model per audience and rebuilds it from the shared
database; search asks it for boosts through one method (kb/search/pipeline.learn)
and never imports this package, nor this package search.
"""

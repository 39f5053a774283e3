"""One blueprint per audience and area; blueprints never import each other."""

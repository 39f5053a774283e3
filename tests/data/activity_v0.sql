-- The activity schema of the sqlite3 era before `searches.answered`, PRAGMA user_version 0: kb/activity.py's
-- SCHEMA at commit caaa352. Test data: files written by that code must upgrade in place.
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, query TEXT NOT NULL, lang TEXT, ui_lang TEXT,
    audience TEXT NOT NULL, route TEXT NOT NULL, results INTEGER NOT NULL, top_score REAL, top_id TEXT);
CREATE INDEX IF NOT EXISTS searches_ts ON searches(ts);
CREATE TABLE IF NOT EXISTS shown (
    search_id INTEGER NOT NULL, article_id TEXT NOT NULL, lang TEXT, rank INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS shown_article ON shown(article_id);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, search_id INTEGER, article_id TEXT NOT NULL, lang TEXT, rank INTEGER);
CREATE TABLE IF NOT EXISTS views (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, article_id TEXT NOT NULL, lang TEXT NOT NULL, ui_lang TEXT,
    audience TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS views_article ON views(article_id);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, article_id TEXT NOT NULL, lang TEXT NOT NULL,
    helpful INTEGER NOT NULL, reason TEXT, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agent_marks (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, article_id TEXT NOT NULL, lang TEXT, mark TEXT NOT NULL,
    query TEXT, user TEXT);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL,
    revoked TEXT);

"""Rate limits shared by replicas through KB_RATELIMIT_STORAGE_URI=redis://... (a real redis-server)."""

import uuid

from tests.support import error_of

SEARCH = "/api/search?q=cdn"


def limited(make_app, **config):
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="3 per minute", **config).test_client()


def address() -> dict:
    """A client address of its own: Redis keeps its counts for the whole session."""
    n = uuid.uuid4().int
    return {"REMOTE_ADDR": f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250 + 1}"}


def test_two_app_instances_share_one_limit_through_redis(make_app, redis_server):
    a = limited(make_app, RATELIMIT_STORAGE_URI=redis_server.url)
    b = limited(make_app, RATELIMIT_STORAGE_URI=redis_server.url)
    client = address()
    codes = [replica.get(SEARCH, environ_base=client).status_code for replica in (a, b, a, b)]
    assert codes == [200, 200, 200, 429]  # the fourth search of the minute, whichever replica gets it
    assert error_of(a.get(SEARCH, environ_base=client))["status"] == 429
    assert b.get(SEARCH, environ_base=address()).status_code == 200  # another client is not limited


def test_in_memory_each_instance_counts_alone(make_app):
    """What Redis fixes: with the default memory:// storage two replicas would allow twice the limit."""
    a, b = limited(make_app), limited(make_app)
    client = address()
    assert [replica.get(SEARCH, environ_base=client).status_code for replica in (a, b, a, b)] == [200] * 4

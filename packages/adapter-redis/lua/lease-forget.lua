-- Drops a client from the lease set after it was reaped, unless it renewed meanwhile (then its
-- state stays; only what was reaped is gone). A client that reaps itself on close always goes.
-- KEYS[1] clients. ARGV: clientId
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
return {'OK'}
